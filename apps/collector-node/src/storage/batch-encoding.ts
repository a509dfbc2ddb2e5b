import type { FlowBatch } from '@flowmesh/flow-decoder';
import { CopyInto, encodeNative, nativeBlockBytes } from './native';
import { encodeRowBinary, ROW_BINARY_ROW_BYTES } from './row-binary';
import { EncodedBatch, isBatchId } from './storage';

/**
 * How a batch travels from the decode worker through the spool to the store. Both are ClickHouse input
 * formats read the same by 18.16 and 26.x, both byte-level (no text):
 *  - `native`: one columnar block (native.ts) — the default; the worker's encode is mostly array copies and
 *    the engine's parse is cheaper (measured in storage/README.md);
 *  - `rowbinary`: row by row (row-binary.ts).
 */
export type BatchFormat = 'native' | 'rowbinary';
export const BATCH_FORMATS: readonly BatchFormat[] = ['native', 'rowbinary'];

/** The ClickHouse format name for an INSERT of that batch. */
export function clickHouseFormat(format: BatchFormat): 'Native' | 'RowBinary' {
  return format === 'native' ? 'Native' : 'RowBinary';
}

/** `alloc` gives the output buffer (exactly the size asked; default a new Buffer), `copy` copies columns into it. */
export function encodeBatch(batch: FlowBatch, batchId: string, format: BatchFormat, alloc?: (bytes: number) => Buffer, copy?: CopyInto): EncodedBatch {
  return { id: batchId, rows: batch.length, format, data: format === 'native' ? encodeNative(batch, batchId, alloc, copy) : encodeRowBinary(batch, batchId, alloc) };
}

/** Why a batch cannot be what encodeBatch made, or undefined. */
export function badBatch(batch: EncodedBatch): string | undefined {
  if (!isBatchId(batch.id)) return 'batch id is not 16 lowercase hex digits';
  if (!Number.isInteger(batch.rows) || batch.rows < 1) return `bad row count ${batch.rows}`;
  if (batch.format === 'native') {
    const want = nativeBlockBytes(batch.rows);
    if (batch.data.length !== want) return `${batch.data.length} bytes for a Native block of ${batch.rows} rows (want ${want})`;
  } else if (batch.format === 'rowbinary') {
    if (batch.data.length !== batch.rows * ROW_BINARY_ROW_BYTES) return `${batch.data.length} bytes for ${batch.rows} rows of ${ROW_BINARY_ROW_BYTES}`;
  } else return `unknown batch format ${JSON.stringify(batch.format)}`;
  return undefined;
}
