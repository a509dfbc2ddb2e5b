import { Counter, Gauge, Registry } from 'prom-client';

export class ConfigAgentMetrics {
  readonly appliedRevision: Gauge;
  readonly desiredRevision: Gauge;
  readonly applies: Counter;
  readonly failures: Counter<'reason'>;
  readonly connected: Gauge;
  readonly appliedInfo: Gauge<'hash'>;
  readonly templatesPublished: Counter;
  readonly templatesImported: Counter<'trigger'>;
  readonly jobs: Counter<'name' | 'outcome'>;

  constructor(registry: Registry) {
    const r = [registry];
    this.appliedRevision = new Gauge({ name: 'flowmesh_collector_config_applied_revision', help: 'Cluster config revision this node runs (0: none from the master)', registers: r });
    this.desiredRevision = new Gauge({ name: 'flowmesh_collector_config_desired_revision', help: 'Cluster config revision last read from Redis for this node', registers: r });
    this.applies = new Counter({ name: 'flowmesh_collector_config_applies_total', help: 'Desired configs applied (from the master or the persisted copy at start)', registers: r });
    this.failures = new Counter({
      name: 'flowmesh_collector_config_apply_failures_total',
      help: 'Desired configs refused, by reason (signature, invalid, apply, stale, no-key)',
      labelNames: ['reason'],
      registers: r,
    });
    for (const reason of ['signature', 'invalid', 'apply', 'stale', 'no-key']) this.failures.inc({ reason }, 0);
    this.connected = new Gauge({ name: 'flowmesh_collector_config_redis_connected', help: '1 when the config agent is connected to Redis', registers: r });
    this.appliedInfo = new Gauge({ name: 'flowmesh_collector_config_applied_info', help: 'Hash of the applied config (value 1)', labelNames: ['hash'], registers: r });
    this.templatesPublished = new Counter({ name: 'flowmesh_collector_templates_shared_total', help: 'Template domains published to the cluster', registers: r });
    this.templatesImported = new Counter({
      name: 'flowmesh_collector_templates_imported_total',
      help: "Imports of other nodes' templates into the decoder, by trigger (first_sight, update, start)",
      labelNames: ['trigger'],
      registers: r,
    });
    this.jobs = new Counter({ name: 'flowmesh_collector_jobs_total', help: 'Node jobs handled, by name and outcome', labelNames: ['name', 'outcome'], registers: r });
  }
}
