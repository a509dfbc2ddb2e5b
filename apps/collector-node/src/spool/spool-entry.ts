import { crc32 } from 'node:zlib';
import type { EncodedBatch } from '../storage/storage';

/*
 * Segment file entry: a 32-byte header then the batch bytes.
 *   0 magic u32 'FMSN' (a Native block) or 'FMSP' (RowBinary rows) | 4 data length u32 | 8 rows u32 | 12 id high u32 | 16 id low u32 |
 *  20 receivedMs f64 | 28 crc32 of header[0,28) + data
 * All little-endian. A torn tail (SIGKILL or power cut mid-write) fails the length or checksum test and
 * is cut off; it is never replayed. Pure (no I/O): decode workers build the header of their batches, so
 * the checksum is computed off the receiving thread.
 */
export const SPOOL_HEADER_BYTES = 32;
const MAGIC: Record<EncodedBatch['format'], number> = { rowbinary: 0x50534d46, native: 0x4e534d46 };

export function formatOfMagic(m: number): EncodedBatch['format'] | undefined {
  return m === MAGIC.native ? 'native' : m === MAGIC.rowbinary ? 'rowbinary' : undefined;
}

export interface SpoolEntryFields {
  id: string;
  rows: number;
  format: EncodedBatch['format'];
  receivedMs: number;
}

/** The header of the entry holding `data` (its checksum covers the header's first 28 bytes and data), in `into` if given. */
export function encodeSpoolHeader(b: SpoolEntryFields, data: Uint8Array, into?: Buffer): Buffer {
  const h = into ? into.subarray(0, SPOOL_HEADER_BYTES) : Buffer.alloc(SPOOL_HEADER_BYTES);
  h.writeUInt32LE(MAGIC[b.format], 0);
  h.writeUInt32LE(data.length, 4);
  h.writeUInt32LE(b.rows, 8);
  h.writeUInt32LE(parseInt(b.id.slice(0, 8), 16), 12);
  h.writeUInt32LE(parseInt(b.id.slice(8), 16), 16);
  h.writeDoubleLE(b.receivedMs, 20);
  h.writeUInt32LE(crc32(data, crc32(h.subarray(0, 28))), 28);
  return h;
}

/** True when `header` is a valid header for `data` (magic, length and checksum). */
export function spoolEntryValid(header: Buffer, data: Uint8Array): boolean {
  return (
    header.length === SPOOL_HEADER_BYTES &&
    formatOfMagic(header.readUInt32LE(0)) !== undefined &&
    header.readUInt32LE(4) === data.length &&
    header.readUInt32LE(28) === crc32(data, crc32(header.subarray(0, 28)))
  );
}
