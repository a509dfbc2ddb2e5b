import type { FlowBatch } from '@flowmesh/flow-decoder';
import { RAW_COLUMNS } from './schema';
import { isBatchId } from './storage';

/*
 * ClickHouse's Native format (the engine's own columnar block), written from a FlowBatch's typed arrays:
 *   VarUInt columns | VarUInt rows | per column: String name | String type | the column's values
 * Fixed-width columns only (no strings, no nullables), so a column's values are its little-endian array.
 * The same bytes are read by ClickHouse 18.16 (HTTP `FORMAT Native`) and 26.x (chDB `FROM INFILE … FORMAT
 * Native`): one block per batch, which both insert atomically. Per row: ROW_BINARY_ROW_BYTES — the same
 * values as RowBinary, stored column by column (copies of typed arrays instead of a per-field loop).
 */

// Fixed-width columns are copied as the typed arrays hold them: host order must be ClickHouse's (little-endian).
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('the Native encoder needs a little-endian host');

const BYTES_PER_VALUE: Record<string, number> = { DateTime: 4, 'FixedString(16)': 16, UInt8: 1, UInt16: 2, UInt32: 4, UInt64: 8 };
const TWO_32 = 4294967296;

function varUIntLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarUInt(out: Uint8Array, p: number, n: number): number {
  while (n >= 0x80) {
    out[p++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[p++] = n;
  return p;
}

function writeString(out: Uint8Array, p: number, s: string): number {
  p = writeVarUInt(out, p, s.length);
  for (let i = 0; i < s.length; i++) out[p++] = s.charCodeAt(i);
  return p;
}

/** Bytes of the per-column headers (names and types) plus the block header, for `rows` rows. */
function headerBytes(rows: number): number {
  let n = varUIntLength(RAW_COLUMNS.length) + varUIntLength(rows);
  for (const c of RAW_COLUMNS) n += varUIntLength(c.name.length) + c.name.length + varUIntLength(c.type.length) + c.type.length;
  return n;
}

/** Size in bytes of the Native block for `rows` rows. */
export function nativeBlockBytes(rows: number): number {
  let n = headerBytes(rows);
  for (const c of RAW_COLUMNS) n += rows * BYTES_PER_VALUE[c.type];
  return n;
}

type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

let scratch = new Uint32Array(0);
/** A reusable word array of at least `n` words (each thread has its own module instance). */
function scratchWords(n: number): Uint32Array {
  if (scratch.length < n) scratch = new Uint32Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** dst.set(src, offset), or a faster copy with the same effect. */
export type CopyInto = (dst: Uint8Array, offset: number, src: Uint8Array) => void;
const setInto: CopyInto = (dst, offset, src) => dst.set(src, offset);

/**
 * Encodes rows [0, batch.length) as one Native block, with `batchId` (16 lowercase hex digits) as the
 * batch_id of every row. Times (ms doubles) become DateTime seconds clamped to [0, 2^32); counters and
 * MACs (doubles) become UInt64, negatives and NaN as 0. Throws on an invalid batch id (a programming error).
 * `alloc` gives the output buffer of the size asked (default: a new one; the decode worker passes memory it reuses),
 * `copy` copies a column into it (default TypedArray.set; the worker passes a memcpy for shared memory).
 */
export function encodeNative(batch: FlowBatch, batchId: string, alloc: (bytes: number) => Buffer = Buffer.allocUnsafe, copy: CopyInto = setInto): Buffer {
  if (!isBatchId(batchId)) throw new Error(`invalid batch id ${JSON.stringify(String(batchId).slice(0, 40))}: want 16 lowercase hex digits`);
  const n = batch.length;
  const out = alloc(nativeBlockBytes(n));
  let p = writeVarUInt(out, 0, RAW_COLUMNS.length);
  p = writeVarUInt(out, p, n);
  const cols = batch as unknown as Record<string, Column>;
  for (const c of RAW_COLUMNS) {
    p = writeString(out, p, c.name);
    p = writeString(out, p, c.type);
    if (c.name === 'batch_id') {
      const hi = parseInt(batchId.slice(0, 8), 16);
      const lo = parseInt(batchId.slice(8), 16);
      const t = scratchWords(2 * n);
      for (let j = 0; j < 2 * n; j += 2) {
        t[j] = lo;
        t[j + 1] = hi;
      }
      copy(out, p, new Uint8Array(t.buffer, 0, n * 8));
      p += n * 8;
      continue;
    }
    const src = cols[c.name];
    if (c.type === 'DateTime') {
      // Converted into an aligned scratch array (typed-array stores, not DataView calls), then copied.
      const t = scratchWords(n);
      for (let i = 0; i < n; i++) {
        const s = Math.floor(src[i] / 1000);
        t[i] = s > 0 ? (s < 0xffffffff ? s : 0xffffffff) : 0;
      }
      copy(out, p, new Uint8Array(t.buffer, 0, n * 4));
      p += n * 4;
    } else if (c.type === 'UInt64') {
      const t = scratchWords(2 * n);
      for (let i = 0, j = 0; i < n; i++, j += 2) {
        const v = src[i];
        if (v > 0 && v < TWO_32) {
          // The common case without a floating-point remainder (fmod is a call, ~10 ns a value).
          t[j] = v;
          t[j + 1] = 0;
        } else if (v >= TWO_32) {
          t[j] = v % TWO_32;
          t[j + 1] = Math.min(Math.floor(v / TWO_32), 0xffffffff);
        } else {
          t[j] = 0;
          t[j + 1] = 0;
        }
      }
      copy(out, p, new Uint8Array(t.buffer, 0, n * 8));
      p += n * 8;
    } else {
      // Same width in the batch as in the table (host order is little-endian on every platform Node runs on).
      const len = n * BYTES_PER_VALUE[c.type];
      copy(out, p, new Uint8Array(src.buffer, src.byteOffset, len));
      p += len;
    }
  }
  if (p !== out.length) throw new Error(`Native size mismatch: wrote ${p} of ${out.length} bytes`);
  return out;
}
