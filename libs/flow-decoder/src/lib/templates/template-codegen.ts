/**
 * Specialises a fixed-length template into straight-line JavaScript (one function per distinct op
 * layout, shared by every exporter using it). The generated code only ever embeds integers taken
 * from the compiled op array, never text from the wire. Templates the generator does not cover
 * (variable-length fields, two address fields for one column) stay on the interpreter in
 * data-records.ts, which defines the semantics this must match.
 */
import type { PacketContext } from '../decoder-state';
import type { FlowBatch } from '../flow-batch';
import * as T from './template-compiler';
import type { CompiledTemplate } from './template-compiler';

export type FastDecode = (ctx: PacketContext, t: CompiledTemplate, b: Uint8Array, start: number, end: number) => number;

export type ExtraWriter = (out: FlowBatch, row: number, t: CompiledTemplate, f: number, b: Uint8Array, off: number, len: number) => void;

export interface CodegenHelpers {
  extra: ExtraWriter;
  readUint: (b: Uint8Array, off: number, len: number) => number;
  ntpToMs: (b: Uint8Array, off: number) => number;
}

/** Numeric columns: op -> [column, primary?, transform]. */
const NUMERIC: Record<number, [string, boolean, 'int' | 'last' | 'dir' | 'vlan' | 'mac']> = {
  [T.OP_BYTES]: ['bytes', true, 'int'],
  [T.OP_BYTES_ALT]: ['bytes', false, 'int'],
  [T.OP_PACKETS]: ['packets', true, 'int'],
  [T.OP_PACKETS_ALT]: ['packets', false, 'int'],
  [T.OP_SPORT]: ['src_port', true, 'int'],
  [T.OP_DPORT]: ['dst_port', true, 'int'],
  [T.OP_PROTO]: ['protocol', true, 'last'],
  [T.OP_TCPFLAGS]: ['tcp_flags', true, 'last'],
  [T.OP_TOS]: ['tos', true, 'last'],
  [T.OP_INIF]: ['in_if', true, 'int'],
  [T.OP_OUTIF]: ['out_if', true, 'int'],
  [T.OP_SRCAS]: ['src_as', true, 'int'],
  [T.OP_DSTAS]: ['dst_as', true, 'int'],
  [T.OP_SMASK]: ['src_mask', true, 'last'],
  [T.OP_DMASK]: ['dst_mask', true, 'last'],
  [T.OP_DIR]: ['direction', true, 'dir'],
  [T.OP_VLAN]: ['vlan', true, 'vlan'],
  [T.OP_VLAN_ALT]: ['vlan', false, 'vlan'],
  [T.OP_SMAC]: ['src_mac', true, 'mac'],
  [T.OP_SMAC_ALT]: ['src_mac', false, 'mac'],
  [T.OP_DMAC]: ['dst_mac', true, 'mac'],
  [T.OP_DMAC_ALT]: ['dst_mac', false, 'mac'],
};
const NUMERIC_COLUMNS = [
  'bytes', 'packets', 'src_port', 'dst_port', 'protocol', 'tcp_flags', 'tos', 'in_if', 'out_if', 'src_as', 'dst_as',
  'src_mask', 'dst_mask', 'direction', 'vlan', 'src_mac', 'dst_mac',
];
const ADDRESS: Record<number, [string, 4 | 6]> = {
  [T.OP_SRC4]: ['src_addr', 4],
  [T.OP_SRC6]: ['src_addr', 6],
  [T.OP_DST4]: ['dst_addr', 4],
  [T.OP_DST6]: ['dst_addr', 6],
  [T.OP_NH4]: ['next_hop', 4],
  [T.OP_NH6]: ['next_hop', 6],
};

/** Byte k of the current field: `base` is 'p' (record start, fixed offsets) or 'q' (cursor after a variable field). */
function byteAt(base: string, k: number): string {
  return k === 0 ? `b[${base}]` : `b[${base} + ${k}]`;
}

/** Offset expression of byte k of the current field. */
function at(base: string, k: number): string {
  return k === 0 ? base : `${base} + ${k}`;
}

/**
 * Multi-byte reads go through a DataView over the payload (`D`, big-endian): one bounds check per
 * read instead of one per byte. Every read is inside the set (the record loop checks lengths first);
 * were one not, DataView throws and the facade counts 'internal_error' (the fuzzer treats that as
 * a crash).
 */
function u32At(base: string, k: number): string {
  return `D.getUint32(${at(base, k)})`;
}

function readExpr(base: string, k: number, len: number): string {
  switch (len) {
    case 1:
      return byteAt(base, k);
    case 2:
      return `D.getUint16(${at(base, k)})`;
    case 3:
      return `((${byteAt(base, k)} << 16) | D.getUint16(${at(base, k + 1)}))`;
    case 4:
      return u32At(base, k);
    case 6:
      return `(D.getUint16(${at(base, k)}) * 4294967296 + ${u32At(base, k + 2)})`;
    case 8:
      return `(${u32At(base, k)} * 4294967296 + ${u32At(base, k + 4)})`;
    default:
      return `R(b, ${base} + ${k}, ${len})`;
  }
}

/** Native (little-endian) word of the 4 bytes at `at` (an expression) + k. */
function wordOf(atExpr: string, k: number): string {
  return `D.getInt32(${atExpr} + ${k}, true)`;
}

/**
 * JavaScript source of the record loop for `t`, or undefined when the template is not covered.
 * The function returns the number of records and leaves the end of the last one in ctx.fastEnd
 * (-1 after a record that ran past the set).
 */
export function generateSource(t: CompiledTemplate): string | undefined {
  if (t.options || t.nFields === 0) return undefined;
  const ops = t.ops;
  const addr = new Map<string, 4 | 6>();
  const stmts: string[] = [];
  const numericUsed = new Set<string>();
  let hasSampling = false;
  let hasIpver = false;
  let variable = false;
  for (let k = 0; k < t.nFields * 4; k += 4) {
    const op = ops[k];
    const fixedOff = ops[k + 1];
    let len = ops[k + 2];
    const f = ops[k + 3];
    if (!Number.isInteger(len) || len < 1 || len > 65535 || !Number.isInteger(fixedOff)) return undefined;
    // where this field starts: a constant offset from p, or the cursor q after a variable-length field
    let base = 'p';
    let off = fixedOff;
    let lenExpr = String(len);
    if (len === T.VARIABLE_LENGTH) {
      if (!variable) stmts.push(`let q = p + ${fixedOff};`);
      variable = true;
      stmts.push(`if (q >= end) { bad = true; break rec; }`);
      stmts.push(`let vl${k} = b[q++];`);
      stmts.push(`if (vl${k} === 255) { if (q + 2 > end) { bad = true; break rec; } vl${k} = (b[q] << 8) | b[q + 1]; q += 2; }`);
      stmts.push(`if (q + vl${k} > end) { bad = true; break rec; }`);
      base = 'q';
      off = 0;
      lenExpr = `vl${k}`;
      len = -1;
      if (op !== T.OP_SKIP) stmts.push(`X(out, row, t, ${f}, b, q, ${lenExpr});`);
      stmts.push(`q += ${lenExpr};`);
      continue;
    }
    if (variable) {
      base = 'q';
      off = 0;
      stmts.push(`if (q + ${len} > end) { bad = true; break rec; }`);
    }
    const a = ADDRESS[op];
    if (a !== undefined) {
      if (addr.has(a[0])) return undefined;
      addr.set(a[0], a[1]);
      stmts.push(`pos_${a[0]} = ${base === 'p' ? `p + ${off}` : 'q'};`);
    } else if (NUMERIC[op] !== undefined) {
      const [col, primary, kind] = NUMERIC[op];
      numericUsed.add(col);
      let expr = '';
      switch (kind) {
        case 'last':
          expr = byteAt(base, off + len - 1);
          break;
        case 'vlan':
          expr = `(${readExpr(base, off, len)} & 0xfff)`;
          break;
        case 'mac':
          expr = readExpr(base, off, 6);
          break;
        case 'dir':
          stmts.push(`{ const v = ${readExpr(base, off, len)}; c_direction = v === 0 ? 1 : v === 1 ? 2 : 0; }`);
          break;
        default:
          expr = readExpr(base, off, len);
      }
      if (expr !== '') stmts.push(primary ? `c_${col} = ${expr};` : `if (c_${col} === 0) c_${col} = ${expr};`);
    } else if (op === T.OP_ICMP_TYPECODE || op === T.OP_ICMP_TYPE || op === T.OP_ICMP_CODE) {
      // the same low-byte rules as the interpreter (data-records.ts)
      numericUsed.add('dst_port');
      const last = byteAt(base, off + len - 1);
      if (op === T.OP_ICMP_TYPECODE) stmts.push(`c_dst_port = ${len >= 2 ? `(${byteAt(base, off + len - 2)} << 8) | ${last}` : last};`);
      else if (op === T.OP_ICMP_TYPE) stmts.push(`c_dst_port = (c_dst_port & 0xff) | (${last} << 8);`);
      else stmts.push(`c_dst_port = (c_dst_port & 0xff00) | ${last};`);
    } else {
      const v = readExpr(base, off, len);
      const at = base === 'p' ? `p + ${off}` : 'q';
      switch (op) {
        case T.OP_SKIP:
          break;
        case T.OP_FIRST_UP:
          stmts.push(`fu = ${v};`);
          break;
        case T.OP_LAST_UP:
          stmts.push(`lu = ${v};`);
          break;
        case T.OP_START_S:
          stmts.push(`s = ${v} * 1000;`);
          break;
        case T.OP_END_S:
          stmts.push(`e = ${v} * 1000;`);
          break;
        case T.OP_START_MS:
          stmts.push(`s = ${v};`);
          break;
        case T.OP_END_MS:
          stmts.push(`e = ${v};`);
          break;
        case T.OP_START_NTP:
          stmts.push(`s = N(b, ${at});`);
          break;
        case T.OP_END_NTP:
          stmts.push(`e = N(b, ${at});`);
          break;
        case T.OP_START_DELTA:
          stmts.push(`s = Math.floor(exportMs - ${v} / 1000);`);
          break;
        case T.OP_END_DELTA:
          stmts.push(`e = Math.floor(exportMs - ${v} / 1000);`);
          break;
        case T.OP_SYSINIT:
          stmts.push(`ri = ${v};`);
          break;
        case T.OP_SAMPLER_ID:
          hasSampling = true;
          stmts.push(`sid = ${v};`);
          break;
        case T.OP_SAMPLING_INTERVAL:
          hasSampling = true;
          stmts.push(`rate = ${v};`);
          break;
        case T.OP_PKT_INTERVAL:
          hasSampling = true;
          stmts.push(`pi = ${v};`);
          break;
        case T.OP_PKT_SPACE:
          hasSampling = true;
          stmts.push(`ps = ${v};`);
          break;
        case T.OP_IPVER:
          hasIpver = true;
          stmts.push(`{ const v = ${byteAt(base, off + len - 1)}; if (v === 4 || v === 6) ipx = v; }`);
          break;
        default:
          stmts.push(`X(out, row, t, ${f}, b, ${at}, ${len});`);
      }
    }
    if (variable) stmts.push(`q += ${len};`);
  }

  const L = t.fixedLength;
  const minLength = t.minLength;
  const lines: string[] = [];
  lines.push(`return function fastDecode(ctx, t, b, start, end) {`);
  lines.push(`  const out = ctx.out;`);
  lines.push(`  const D = new DataView(b.buffer, b.byteOffset, b.byteLength);`);
  lines.push(`  const dom = ctx.dom, tr = ctx.timeReceived, exportMs = ctx.exportMs, up = ctx.sysUptime, ft = ctx.flowType, od = dom.domain;`);
  lines.push(`  const fb = dom.fallbackRate, smp = dom.samplers, dinit = dom.systemInitMs;`);
  lines.push(`  const W = ctx.words, WE = W.exporter, WS = W.src, WD = W.dst, WN = W.nextHop;`);
  lines.push(`  const aw = ctx.exporter.addrWords, e0 = aw[0], e1 = aw[1], e2 = aw[2], e3 = aw[3];`);
  // onFull flushes and clears the same batch, so its columns can be held in locals
  const ALL = [...NUMERIC_COLUMNS, 'time_received', 'flow_start', 'flow_end', 'observation_domain', 'flow_type', 'sampling_rate', 'ip_version', 'extra'];
  lines.push(`  const ${ALL.map((c) => `K_${c} = out.${c}`).join(', ')};`);
  lines.push(`  let n = 0, p = start, bad = false;`);
  lines.push(`  rec: while (end - p >= ${minLength}) {`);
  lines.push(`    let row;`);
  lines.push(`    if (out.length < out.capacity) row = out.length++;`);
  lines.push(`    else { row = ctx.nextRow(); if (row < 0) break; }`);
  lines.push(`    K_extra[row] = undefined;`);
  lines.push(`    let s = -1, e = -1, fu = -1, lu = -1, ri = -1, sid = -1, rate = 0, pi = 0, ps = 0, ipx = 0, ipv = 0;`);
  lines.push(`    let pos_src_addr = -1, pos_dst_addr = -1, pos_next_hop = -1;`);
  for (const col of numericUsed) lines.push(`    let c_${col} = 0;`);
  for (const st of stmts) lines.push(`    ${st}`);
  lines.push(`    const o = row * 4;`);
  lines.push(`    K_time_received[row] = tr;`);
  lines.push(`    WE[o] = e0; WE[o + 1] = e1; WE[o + 2] = e2; WE[o + 3] = e3;`);
  lines.push(`    K_observation_domain[row] = od;`);
  lines.push(`    K_flow_type[row] = ft;`);
  for (const [col, w] of [['src_addr', 'WS'], ['dst_addr', 'WD'], ['next_hop', 'WN']] as const) {
    const fam = addr.get(col);
    const at = `pos_${col}`;
    if (fam === undefined) {
      lines.push(`    ${w}[o] = 0; ${w}[o + 1] = 0; ${w}[o + 2] = 0; ${w}[o + 3] = 0;`);
    } else if (fam === 4) {
      lines.push(`    ${w}[o] = 0; ${w}[o + 1] = 0; ${w}[o + 2] = 0xffff0000; ${w}[o + 3] = ${wordOf(at, 0)};${col !== 'next_hop' ? ' if (ipv === 0) ipv = 4;' : ''}`);
    } else {
      lines.push(`    { const w0 = ${wordOf(at, 0)}, w1 = ${wordOf(at, 4)}, w2 = ${wordOf(at, 8)}, w3 = ${wordOf(at, 12)};`);
      lines.push(`      ${w}[o] = w0; ${w}[o + 1] = w1; ${w}[o + 2] = w2; ${w}[o + 3] = w3;${col !== 'next_hop' ? ' if ((w0 | w1 | w2 | w3) !== 0) ipv = 6;' : ''} }`);
    }
  }
  for (const col of NUMERIC_COLUMNS) lines.push(`    K_${col}[row] = ${numericUsed.has(col) ? `c_${col}` : '0'};`);
  // times and sampling: the same rules as finalizeRow in data-records.ts
  lines.push(`    if (s < 0 && fu >= 0) s = up >= 0 ? exportMs - ((up - fu) | 0) : (ri > 0 ? ri + fu : dinit > 0 ? dinit + fu : -1);`);
  lines.push(`    if (e < 0 && lu >= 0) e = up >= 0 ? exportMs - ((up - lu) | 0) : (ri > 0 ? ri + lu : dinit > 0 ? dinit + lu : -1);`);
  lines.push(`    if (s < 0) s = e >= 0 ? e : exportMs;`);
  lines.push(`    if (e < 0) e = s;`);
  lines.push(`    K_flow_start[row] = s;`);
  lines.push(`    K_flow_end[row] = e;`);
  if (hasSampling) {
    lines.push(`    let r = rate > 0 ? rate : pi > 0 ? (ps > 0 ? Math.round((pi + ps) / pi) : pi) : 0;`);
    lines.push(`    if (r === 0) { if (sid >= 0 && smp !== null) r = smp.get(sid) ?? 0; if (r === 0) r = fb; }`);
    lines.push(`    K_sampling_rate[row] = r >= 1 ? r : 1;`);
  } else {
    lines.push(`    K_sampling_rate[row] = fb;`);
  }
  lines.push(`    K_ip_version[row] = ${hasIpver ? 'ipx !== 0 ? ipx : ipv' : 'ipv'};`);
  lines.push(`    n++;`);
  lines.push(variable ? `    p = q;` : `    p += ${L};`);
  lines.push(`  }`);
  lines.push(`  if (bad) { out.length--; ctx.fastEnd = -1; } else ctx.fastEnd = p;`);
  lines.push(`  return n;`);
  lines.push(`};`);
  return lines.join('\n');
}

/**
 * A generated decoder shared by every template with the same layout. When the slot is evicted
 * (`fn` set to null), templates holding it drop back to the interpreter and may ask again, so
 * memory for generated code stays bounded even under template churn.
 */
export interface FastSlot {
  fn: FastDecode | null;
}

export const MAX_GENERATED_DECODERS = 256;
const generated = new Map<string, FastSlot>();
export const NOT_COVERED_SLOT: FastSlot = { fn: null };

/**
 * The layout of `t` as a compact string: per field its op, offset (-1 as 0xffff; offsets are below
 * 65535) and length, one UTF-16 code unit each. The field index is the position, so it is implied.
 */
function layoutKey(t: CompiledTemplate): string {
  const ops = t.ops;
  const n = t.nFields;
  const units = new Uint16Array(n * 3);
  for (let f = 0, k = 0; f < n; f++, k += 4) {
    units[f * 3] = ops[k];
    units[f * 3 + 1] = ops[k + 1] & 0xffff;
    units[f * 3 + 2] = ops[k + 2];
  }
  let s = `${t.fixedLength}:${t.minLength}:`;
  for (let i = 0; i < units.length; i += 4096) s += String.fromCharCode(...units.subarray(i, i + 4096));
  return s;
}

/** The slot of the specialised decoder for `t` (least recently asked for is evicted first). */
/** Returned when the code-generation budget is spent: the template is interpreted and asks again later. */
export const DEFERRED_SLOT: FastSlot = { fn: null };

export function fastDecoderFor(t: CompiledTemplate, helpers: CodegenHelpers, mayGenerate: () => boolean = () => true): FastSlot {
  const key = (t.fastKey ??= layoutKey(t));
  const hit = generated.get(key);
  if (hit !== undefined) {
    generated.delete(key);
    generated.set(key, hit);
    return hit;
  }
  if (!mayGenerate()) return DEFERRED_SLOT;
  const src = generateSource(t);
  if (src === undefined) return NOT_COVERED_SLOT;
  generatedTotal++;
  const factory = new Function('X', 'R', 'N', src) as (x: ExtraWriter, r: CodegenHelpers['readUint'], n: CodegenHelpers['ntpToMs']) => FastDecode;
  const slot: FastSlot = { fn: factory(helpers.extra, helpers.readUint, helpers.ntpToMs) };
  if (generated.size >= MAX_GENERATED_DECODERS) {
    const oldest = generated.keys().next().value as string;
    generated.get(oldest)!.fn = null;
    generated.delete(oldest);
  }
  generated.set(key, slot);
  return slot;
}

let generatedTotal = 0;

/** Decoders generated since the process started, evicted ones included (for tests and diagnostics). */
export function generatedDecoderTotal(): number {
  return generatedTotal;
}

/** Generated decoders currently alive (for tests and diagnostics). */
export function generatedDecoderCount(): number {
  return generated.size;
}
