import { Counter, Registry } from 'prom-client';

export const FLOW_PROTOCOLS = ['netflow_v5', 'netflow_v9', 'ipfix', 'sflow_v5'] as const;

export class DecodePipelineMetrics {
  readonly flows: Counter<'protocol'>;
  readonly errors: Counter<'reason'>;

  constructor(registry: Registry, reasons: readonly string[]) {
    this.flows = new Counter({
      name: 'flowmesh_collector_decode_flows_total',
      help: 'Flow records decoded, by export protocol',
      labelNames: ['protocol'],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'flowmesh_collector_decode_errors_total',
      help: 'Malformed or unusable input, by reason (the rest of a packet still counts)',
      labelNames: ['reason'],
      registers: [registry],
    });
    for (const reason of reasons) this.errors.inc({ reason }, 0);
    for (const protocol of FLOW_PROTOCOLS) this.flows.inc({ protocol }, 0);
  }
}
