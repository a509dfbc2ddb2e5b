/*
 * Datagrams packed into one transferable ArrayBuffer for a decode worker (one postMessage per pack, not
 * per datagram). Each record: receivedMs f64 | payload length u32 | address length u8 | address (latin1) | payload.
 */
export const PACK_RECORD_OVERHEAD = 8 + 4 + 1;

export class PackWriter {
  buf: ArrayBuffer;
  private view: DataView;
  private bytes: Uint8Array;
  used = 0;
  count = 0;
  firstAt = 0;

  constructor(buf: ArrayBuffer) {
    this.buf = buf;
    this.view = new DataView(buf);
    this.bytes = new Uint8Array(buf);
  }

  /** False when the record does not fit (the caller sends this pack and starts another). */
  add(payload: Uint8Array, exporter: string, receivedMs: number): boolean {
    const need = PACK_RECORD_OVERHEAD + exporter.length + payload.length;
    if (this.used + need > this.buf.byteLength || exporter.length > 255) return false;
    let p = this.used;
    this.view.setFloat64(p, receivedMs, true);
    this.view.setUint32(p + 8, payload.length, true);
    this.bytes[p + 12] = exporter.length;
    p += 13;
    for (let i = 0; i < exporter.length; i++) this.bytes[p + i] = exporter.charCodeAt(i);
    p += exporter.length;
    this.bytes.set(payload, p);
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

/** Calls `fn` for every datagram in buf[0, used); payloads are views into buf (valid during the call). */
export function forEachDatagram(buf: ArrayBuffer, used: number, fn: (payload: Uint8Array, exporter: string, receivedMs: number) => void): void {
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
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
