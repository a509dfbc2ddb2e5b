import { Counter, Gauge, Registry } from 'prom-client';

export const FLOW_PROTOCOLS = ['netflow_v5', 'netflow_v9', 'ipfix', 'sflow_v5'] as const;

export class DecodePipelineMetrics {
  readonly flows: Counter<'protocol'>;
  readonly errors: Counter<'reason'>;
  readonly workers: Gauge;
  readonly workerRestarts: Counter;
  readonly queuedBytes: Gauge;
  readonly clockSkew: Counter<'reason' | 'action'>;
  readonly batchMemory: Gauge;

  constructor(registry: Registry, reasons: readonly string[]) {
    const r = [registry];
    this.flows = new Counter({ name: 'flowmesh_collector_decode_flows_total', help: 'Flow records decoded, by export protocol', labelNames: ['protocol'], registers: r });
    this.errors = new Counter({
      name: 'flowmesh_collector_decode_errors_total',
      help: 'Malformed or unusable input, by reason (the rest of a packet still counts)',
      labelNames: ['reason'],
      registers: r,
    });
    this.workers = new Gauge({ name: 'flowmesh_collector_decode_workers', help: 'Decode worker threads', registers: r });
    this.workerRestarts = new Counter({ name: 'flowmesh_collector_decode_worker_restarts_total', help: 'Decode workers that died and were replaced', registers: r });
    this.queuedBytes = new Gauge({ name: 'flowmesh_collector_decode_queued_bytes', help: 'Datagram bytes handed to decode workers and not yet decoded', registers: r });
    this.clockSkew = new Counter({
      name: 'flowmesh_collector_decode_clock_skew_flows_total',
      help: 'Records whose flow_start/flow_end was too far in the future or past of their receive time, by reason and action',
      labelNames: ['reason', 'action'],
      registers: r,
    });
    this.batchMemory = new Gauge({
      name: 'flowmesh_collector_decode_batch_memory_bytes',
      help: 'Shared memory the decode workers encode batches into (slabs, reused once the spool released their batches)',
      registers: r,
    });
    for (const reason of reasons) this.errors.inc({ reason }, 0);
    for (const protocol of FLOW_PROTOCOLS) this.flows.inc({ protocol }, 0);
    this.workerRestarts.inc(0);
  }
}
