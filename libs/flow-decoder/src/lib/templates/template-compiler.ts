/**
 * Turns a template (list of (pen, id, length)) into a flat op array decoded without allocation:
 * 4 int32 per field: op (target column), offset in the record (-1 after a variable-length field),
 * length (65535 = variable), field index (for `extra`).
 */

export const OP_SKIP = 0;
export const OP_EXTRA = 1;
export const OP_BYTES = 2;
export const OP_BYTES_ALT = 3;
export const OP_PACKETS = 4;
export const OP_PACKETS_ALT = 5;
export const OP_SRC4 = 6;
export const OP_DST4 = 7;
export const OP_SRC6 = 8;
export const OP_DST6 = 9;
export const OP_NH4 = 10;
export const OP_NH6 = 11;
export const OP_SPORT = 12;
export const OP_DPORT = 13;
export const OP_PROTO = 14;
export const OP_TCPFLAGS = 15;
export const OP_TOS = 16;
export const OP_INIF = 17;
export const OP_OUTIF = 18;
export const OP_SRCAS = 19;
export const OP_DSTAS = 20;
export const OP_SMASK = 21;
export const OP_DMASK = 22;
export const OP_DIR = 23;
export const OP_VLAN = 24;
export const OP_VLAN_ALT = 25;
export const OP_SMAC = 26;
export const OP_SMAC_ALT = 27;
export const OP_DMAC = 28;
export const OP_DMAC_ALT = 29;
export const OP_IPVER = 30;
export const OP_FIRST_UP = 31;
export const OP_LAST_UP = 32;
export const OP_START_S = 33;
export const OP_END_S = 34;
export const OP_START_MS = 35;
export const OP_END_MS = 36;
export const OP_START_NTP = 37;
export const OP_END_NTP = 38;
export const OP_START_DELTA = 39;
export const OP_END_DELTA = 40;
export const OP_SYSINIT = 41;
export const OP_SAMPLER_ID = 42;
export const OP_SAMPLING_INTERVAL = 43;
export const OP_PKT_INTERVAL = 44;
export const OP_PKT_SPACE = 45;
/** ICMP type and code into dst_port as type * 256 + code (only in templates without IE 11). */
export const OP_ICMP_TYPECODE = 46;
export const OP_ICMP_TYPE = 47;
export const OP_ICMP_CODE = 48;

export const VARIABLE_LENGTH = 65535;

export type TemplateProtocol = 'netflow_v9' | 'ipfix';

export interface CompiledTemplate {
  readonly id: number;
  readonly options: boolean;
  readonly scopeCount: number;
  readonly ids: Uint16Array;
  readonly pens: Uint32Array;
  readonly lengths: Uint16Array;
  /** The template record as received on the wire: equality on refresh, export/import. */
  readonly raw: Uint8Array;
  readonly ops: Int32Array;
  readonly nFields: number;
  /** Record length when every field is fixed-length, else -1. */
  readonly fixedLength: number;
  /** Smallest possible record (variable-length fields count 1 octet). */
  readonly minLength: number;
  /** Bytes charged against the exporter's template budget. */
  readonly cost: number;
  lastSeenMs: number;
  /** Packets whose data was decoded with this template (drives when it is specialised). */
  uses: number;
  /** PacketContext.packetSerial of the last counted use. */
  usePacket: number;
  /** Specialised decoder slot: undefined = not asked for yet; a slot whose fn is null = not covered or evicted. */
  fast: { fn: unknown } | undefined;
  /** Layout key of the specialised decoder, computed once (template-codegen.ts). */
  fastKey: string | undefined;
}

const INT = 1; // integer of 1..8 bytes
const V4 = 2; // exactly 4 bytes
const V6 = 3; // exactly 16 bytes
const MAC = 4; // exactly 6 bytes
const NTP = 5; // exactly 8 bytes

/** IANA IE id -> [op, kind]. */
const IANA = new Map<number, [number, number]>([
  [1, [OP_BYTES, INT]],
  [85, [OP_BYTES_ALT, INT]],
  [2, [OP_PACKETS, INT]],
  [86, [OP_PACKETS_ALT, INT]],
  [8, [OP_SRC4, V4]],
  [12, [OP_DST4, V4]],
  [15, [OP_NH4, V4]],
  [27, [OP_SRC6, V6]],
  [28, [OP_DST6, V6]],
  [62, [OP_NH6, V6]],
  [7, [OP_SPORT, INT]],
  [11, [OP_DPORT, INT]],
  [4, [OP_PROTO, INT]],
  [6, [OP_TCPFLAGS, INT]],
  [5, [OP_TOS, INT]],
  [10, [OP_INIF, INT]],
  [14, [OP_OUTIF, INT]],
  [16, [OP_SRCAS, INT]],
  [17, [OP_DSTAS, INT]],
  [9, [OP_SMASK, INT]],
  [29, [OP_SMASK, INT]],
  [13, [OP_DMASK, INT]],
  [30, [OP_DMASK, INT]],
  [61, [OP_DIR, INT]],
  [58, [OP_VLAN, INT]],
  [243, [OP_VLAN_ALT, INT]],
  [56, [OP_SMAC, MAC]],
  [81, [OP_SMAC_ALT, MAC]],
  [80, [OP_DMAC, MAC]],
  [57, [OP_DMAC_ALT, MAC]],
  [60, [OP_IPVER, INT]],
  [22, [OP_FIRST_UP, INT]],
  [21, [OP_LAST_UP, INT]],
  [150, [OP_START_S, INT]],
  [151, [OP_END_S, INT]],
  [152, [OP_START_MS, INT]],
  [153, [OP_END_MS, INT]],
  [154, [OP_START_NTP, NTP]],
  [155, [OP_END_NTP, NTP]],
  [156, [OP_START_NTP, NTP]],
  [157, [OP_END_NTP, NTP]],
  [158, [OP_START_DELTA, INT]],
  [159, [OP_END_DELTA, INT]],
  [160, [OP_SYSINIT, INT]],
  [48, [OP_SAMPLER_ID, INT]],
  [302, [OP_SAMPLER_ID, INT]],
  [34, [OP_SAMPLING_INTERVAL, INT]],
  [50, [OP_SAMPLING_INTERVAL, INT]],
  [305, [OP_PKT_INTERVAL, INT]],
  [306, [OP_PKT_SPACE, INT]],
  [210, [OP_SKIP, 0]],
]);

/**
 * ICMP type/code IEs: mapped to dst_port (type * 256 + code, the NetFlow v5 and sFlow convention)
 * when the template has no usable IE 11 destinationTransportPort; otherwise they stay in `extra`.
 */
const ICMP = new Map<number, number>([
  [32, OP_ICMP_TYPECODE], // icmpTypeCodeIPv4
  [139, OP_ICMP_TYPECODE], // icmpTypeCodeIPv6
  [176, OP_ICMP_TYPE], // icmpTypeIPv4
  [177, OP_ICMP_CODE], // icmpCodeIPv4
  [178, OP_ICMP_TYPE], // icmpTypeIPv6
  [179, OP_ICMP_CODE], // icmpCodeIPv6
]);

function opFor(pen: number, id: number, length: number): number {
  if (pen !== 0) return OP_EXTRA;
  const m = IANA.get(id);
  if (m === undefined) return OP_EXTRA;
  const [op, kind] = m;
  switch (kind) {
    case INT:
      return length >= 1 && length <= 8 ? op : OP_EXTRA;
    case V4:
      return length === 4 ? op : OP_EXTRA;
    case V6:
      return length === 16 ? op : OP_EXTRA;
    case MAC:
      return length === 6 ? op : OP_EXTRA;
    case NTP:
      return length === 8 ? op : OP_EXTRA;
    default:
      return op;
  }
}

/** Per-template fixed overhead charged against the byte budget, beyond the wire bytes. */
export const TEMPLATE_OVERHEAD_BYTES = 64;

/**
 * Compiles a template. `skipScope` makes the first `scopeCount` fields opaque (NetFlow v9 scope
 * types are their own namespace). Returns a reason string when the template is unusable.
 */
export function compileTemplate(
  id: number,
  options: boolean,
  scopeCount: number,
  ids: Uint16Array,
  pens: Uint32Array,
  lengths: Uint16Array,
  raw: Uint8Array,
  skipScope: boolean,
  nowMs: number,
): CompiledTemplate | 'bad_template' {
  const n = ids.length;
  if (n === 0 || id < 256) return 'bad_template';
  const ops = new Int32Array(n * 4);
  let hasDstPort = false;
  for (let f = 0; f < n; f++) {
    if (!(skipScope && f < scopeCount) && opFor(pens[f], ids[f], lengths[f]) === OP_DPORT) hasDstPort = true;
  }
  let offset = 0;
  let minLength = 0;
  let variable = false;
  for (let f = 0; f < n; f++) {
    const len = lengths[f];
    if (len === 0) return 'bad_template';
    const isVar = len === VARIABLE_LENGTH;
    let op = skipScope && f < scopeCount ? OP_SKIP : opFor(pens[f], ids[f], len);
    if (op === OP_EXTRA && !hasDstPort && pens[f] === 0 && len >= 1 && len <= 8 && ICMP.has(ids[f])) op = ICMP.get(ids[f])!;
    if (isVar && op !== OP_SKIP) op = OP_EXTRA;
    ops[f * 4] = op;
    ops[f * 4 + 1] = variable ? -1 : offset;
    ops[f * 4 + 2] = len;
    ops[f * 4 + 3] = f;
    if (isVar) {
      variable = true;
      minLength += 1;
    } else {
      offset += len;
      minLength += len;
    }
  }
  if (minLength > 65535) return 'bad_template';
  return {
    id,
    options,
    scopeCount,
    ids,
    pens,
    lengths,
    raw,
    ops,
    nFields: n,
    fixedLength: variable ? -1 : offset,
    minLength,
    cost: raw.length + TEMPLATE_OVERHEAD_BYTES,
    lastSeenMs: nowMs,
    uses: 0,
    usePacket: -1,
    fast: undefined,
    fastKey: undefined,
  };
}
