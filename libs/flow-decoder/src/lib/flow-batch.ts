/**
 * Columnar batch of decoded flow records: the hot-path output of every decoder.
 *
 * One typed array per canonical field; addresses are 16 bytes each (IPv4 stored
 * IPv4-mapped, ::ffff:a.b.c.d), times are epoch milliseconds, 64-bit counters are
 * doubles (exact up to 2^53). A batch is owned by its caller and reused after
 * `clear()`; decoders append with `next()` and fill the row's columns.
 */
export const FLOW_TYPE = { netflow_v5: 5, netflow_v9: 9, ipfix: 10, sflow_v5: 65 } as const;
export type FlowTypeName = keyof typeof FLOW_TYPE;

export const DIRECTION = { unknown: 0, ingress: 1, egress: 2 } as const;

/** Enterprise-specific or unknown field: `pen` 0 means IANA. Value is raw bytes, or a number when ≤ 6 bytes. */
export interface ExtraField {
  pen: number;
  id: number;
  value: number | Uint8Array | string;
}

export class FlowBatch {
  length = 0;
  readonly capacity: number;

  readonly time_received: Float64Array;
  readonly flow_start: Float64Array;
  readonly flow_end: Float64Array;
  readonly exporter_addr: Uint8Array; // 16 bytes per row
  readonly observation_domain: Uint32Array;
  readonly flow_type: Uint8Array;
  readonly sampling_rate: Uint32Array;
  readonly ip_version: Uint8Array;
  readonly src_addr: Uint8Array; // 16 bytes per row
  readonly dst_addr: Uint8Array; // 16 bytes per row
  readonly src_port: Uint16Array;
  readonly dst_port: Uint16Array;
  readonly protocol: Uint8Array;
  readonly tcp_flags: Uint8Array;
  readonly tos: Uint8Array;
  readonly bytes: Float64Array;
  readonly packets: Float64Array;
  readonly in_if: Uint32Array;
  readonly out_if: Uint32Array;
  readonly src_as: Uint32Array;
  readonly dst_as: Uint32Array;
  readonly next_hop: Uint8Array; // 16 bytes per row
  readonly src_mask: Uint8Array;
  readonly dst_mask: Uint8Array;
  readonly direction: Uint8Array;
  readonly vlan: Uint16Array;
  readonly src_mac: Float64Array; // 48-bit MAC as a number
  readonly dst_mac: Float64Array;
  /** Sparse: enterprise and unknown fields of row i, or undefined. */
  readonly extra: (ExtraField[] | undefined)[];

  constructor(capacity = 4096) {
    this.capacity = capacity;
    this.time_received = new Float64Array(capacity);
    this.flow_start = new Float64Array(capacity);
    this.flow_end = new Float64Array(capacity);
    this.exporter_addr = new Uint8Array(capacity * 16);
    this.observation_domain = new Uint32Array(capacity);
    this.flow_type = new Uint8Array(capacity);
    this.sampling_rate = new Uint32Array(capacity);
    this.ip_version = new Uint8Array(capacity);
    this.src_addr = new Uint8Array(capacity * 16);
    this.dst_addr = new Uint8Array(capacity * 16);
    this.src_port = new Uint16Array(capacity);
    this.dst_port = new Uint16Array(capacity);
    this.protocol = new Uint8Array(capacity);
    this.tcp_flags = new Uint8Array(capacity);
    this.tos = new Uint8Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.packets = new Float64Array(capacity);
    this.in_if = new Uint32Array(capacity);
    this.out_if = new Uint32Array(capacity);
    this.src_as = new Uint32Array(capacity);
    this.dst_as = new Uint32Array(capacity);
    this.next_hop = new Uint8Array(capacity * 16);
    this.src_mask = new Uint8Array(capacity);
    this.dst_mask = new Uint8Array(capacity);
    this.direction = new Uint8Array(capacity);
    this.vlan = new Uint16Array(capacity);
    this.src_mac = new Float64Array(capacity);
    this.dst_mac = new Float64Array(capacity);
    this.extra = new Array(capacity);
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Appends a zeroed row and returns its index, or -1 when the batch is full. */
  next(): number {
    if (this.length >= this.capacity) return -1;
    const i = this.length++;
    this.zeroRow(i);
    return i;
  }

  /** Drops the last row (a decoder that found the record bad after `next()`). */
  pop(): void {
    if (this.length > 0) this.length--;
  }

  clear(): void {
    this.length = 0;
  }

  /** Copies row `from` over row `to` (compaction after a filter drops rows). */
  copyRow(from: number, to: number): void {
    this.time_received[to] = this.time_received[from];
    this.flow_start[to] = this.flow_start[from];
    this.flow_end[to] = this.flow_end[from];
    this.exporter_addr.copyWithin(to * 16, from * 16, from * 16 + 16);
    this.observation_domain[to] = this.observation_domain[from];
    this.flow_type[to] = this.flow_type[from];
    this.sampling_rate[to] = this.sampling_rate[from];
    this.ip_version[to] = this.ip_version[from];
    this.src_addr.copyWithin(to * 16, from * 16, from * 16 + 16);
    this.dst_addr.copyWithin(to * 16, from * 16, from * 16 + 16);
    this.src_port[to] = this.src_port[from];
    this.dst_port[to] = this.dst_port[from];
    this.protocol[to] = this.protocol[from];
    this.tcp_flags[to] = this.tcp_flags[from];
    this.tos[to] = this.tos[from];
    this.bytes[to] = this.bytes[from];
    this.packets[to] = this.packets[from];
    this.in_if[to] = this.in_if[from];
    this.out_if[to] = this.out_if[from];
    this.src_as[to] = this.src_as[from];
    this.dst_as[to] = this.dst_as[from];
    this.next_hop.copyWithin(to * 16, from * 16, from * 16 + 16);
    this.src_mask[to] = this.src_mask[from];
    this.dst_mask[to] = this.dst_mask[from];
    this.direction[to] = this.direction[from];
    this.vlan[to] = this.vlan[from];
    this.src_mac[to] = this.src_mac[from];
    this.dst_mac[to] = this.dst_mac[from];
    this.extra[to] = this.extra[from];
  }

  private zeroRow(i: number): void {
    this.time_received[i] = 0;
    this.flow_start[i] = 0;
    this.flow_end[i] = 0;
    this.exporter_addr.fill(0, i * 16, i * 16 + 16);
    this.observation_domain[i] = 0;
    this.flow_type[i] = 0;
    this.sampling_rate[i] = 0;
    this.ip_version[i] = 0;
    this.src_addr.fill(0, i * 16, i * 16 + 16);
    this.dst_addr.fill(0, i * 16, i * 16 + 16);
    this.src_port[i] = 0;
    this.dst_port[i] = 0;
    this.protocol[i] = 0;
    this.tcp_flags[i] = 0;
    this.tos[i] = 0;
    this.bytes[i] = 0;
    this.packets[i] = 0;
    this.in_if[i] = 0;
    this.out_if[i] = 0;
    this.src_as[i] = 0;
    this.dst_as[i] = 0;
    this.next_hop.fill(0, i * 16, i * 16 + 16);
    this.src_mask[i] = 0;
    this.dst_mask[i] = 0;
    this.direction[i] = 0;
    this.vlan[i] = 0;
    this.src_mac[i] = 0;
    this.dst_mac[i] = 0;
    this.extra[i] = undefined;
  }
}
