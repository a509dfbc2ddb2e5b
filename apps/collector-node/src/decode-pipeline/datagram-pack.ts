/*
 * Datagrams packed into one buffer for a decode worker (one postMessage per pack, not per datagram): a
 * region of the worker's SharedArrayBuffer of packs, or a transferable ArrayBuffer for a datagram too big
 * for one. Each record: receivedMs f64 | payload length u32 | address length u8 | address (latin1) | payload.
 */
import { sharedCopier } from '@flowmesh/udp-mmsg';

/** memcpy into the shared pack (TypedArray.set into a SharedArrayBuffer is ~3.5× slower for a 1400-byte datagram). */
const copy = sharedCopier();

export const PACK_RECORD_OVERHEAD = 8 + 4 + 1;

export class PackWriter {
  private view: DataView;
  used = 0;
  count = 0;
  firstAt = 0;

  /** `index`: the pack's place in its worker's shared pack arena, or -1 for a standalone (transferred) buffer. */
  constructor(
    readonly bytes: Uint8Array,
    readonly index: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** False when the record does not fit (the caller sends this pack and starts another). */
  add(payload: Uint8Array, exporter: string, receivedMs: number): boolean {
    const need = PACK_RECORD_OVERHEAD + exporter.length + payload.length;
    if (this.used + need > this.bytes.byteLength || exporter.length > 255) return false;
    let p = this.used;
    this.view.setFloat64(p, receivedMs, true);
    this.view.setUint32(p + 8, payload.length, true);
    this.bytes[p + 12] = exporter.length;
    p += 13;
    for (let i = 0; i < exporter.length; i++) this.bytes[p + i] = exporter.charCodeAt(i);
    p += exporter.length;
    copy(this.bytes, p, payload);
    this.used = p + payload.length;
    if (this.count++ === 0) this.firstAt = receivedMs;
    return true;
  }
}

export interface PackedDatagram {
  receivedMs: number;
  exporter: string;
  payload: Uint8Array;
}

/** Calls `fn` for every datagram in bytes[0, used); payloads are views into bytes (valid during the call). */
export function forEachDatagram(bytes: Uint8Array, used: number, fn: (payload: Uint8Array, exporter: string, receivedMs: number) => void): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  while (p + PACK_RECORD_OVERHEAD <= used) {
    const receivedMs = view.getFloat64(p, true);
    const len = view.getUint32(p + 8, true);
    const alen = bytes[p + 12];
    p += 13;
    if (p + alen + len > used) return;
    const exporter = String.fromCharCode.apply(null, bytes.subarray(p, p + alen) as unknown as number[]);
    p += alen;
    fn(bytes.subarray(p, p + len), exporter, receivedMs);
    p += len;
  }
}
