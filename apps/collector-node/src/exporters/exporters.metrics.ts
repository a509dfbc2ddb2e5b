import { Counter, Gauge, Registry } from 'prom-client';

export const OTHER_EXPORTER = 'other';

/**
 * Per-exporter series. The exporter label is the configured name, else the address; at most maxSeries
 * distinct labels, the rest are summed under exporter="other".
 */
export class ExporterMetrics {
  readonly packets: Counter<'exporter'>;
  readonly bytes: Counter<'exporter'>;
  readonly flows: Counter<'exporter'>;
  readonly errors: Counter<'exporter' | 'reason'>;
  readonly templates: Gauge<'exporter'>;
  readonly sequenceLost: Counter<'exporter'>;
  private readonly labels = new Set<string>();

  constructor(
    registry: Registry,
    private readonly maxSeries: number,
  ) {
    const r = [registry];
    this.packets = new Counter({ name: 'flowmesh_collector_exporter_packets_total', help: 'Datagrams received from an allowed exporter', labelNames: ['exporter'], registers: r });
    this.bytes = new Counter({ name: 'flowmesh_collector_exporter_received_bytes_total', help: 'UDP payload bytes received from an allowed exporter', labelNames: ['exporter'], registers: r });
    this.flows = new Counter({ name: 'flowmesh_collector_exporter_flows_total', help: 'Flow records decoded, by exporter', labelNames: ['exporter'], registers: r });
    this.errors = new Counter({
      name: 'flowmesh_collector_exporter_decode_errors_total',
      help: 'Decode errors by exporter and reason',
      labelNames: ['exporter', 'reason'],
      registers: r,
    });
    this.templates = new Gauge({ name: 'flowmesh_collector_exporter_templates', help: 'Templates currently held for an exporter (all domains)', labelNames: ['exporter'], registers: r });
    this.sequenceLost = new Counter({
      name: 'flowmesh_collector_exporter_sequence_lost_total',
      help: 'Records (v5/IPFIX) or packets (v9/sFlow) missing according to sequence numbers',
      labelNames: ['exporter'],
      registers: r,
    });
  }

  /** The label for an exporter: its name or address, or "other" once maxSeries labels exist. */
  label(address: string, name?: string): string {
    const l = name ?? address;
    if (this.labels.has(l)) return l;
    if (this.labels.size >= this.maxSeries) return OTHER_EXPORTER;
    this.labels.add(l);
    return l;
  }
}
