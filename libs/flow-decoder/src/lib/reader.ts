/** Big-endian unsigned readers over a Uint8Array. Callers bounds-check before reading. */

export function u16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) >>> 0) + ((b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]);
}

/** Unsigned integer of 1..8 bytes (reduced-size encoding); 64-bit values exact up to 2^53. */
export function readUint(b: Uint8Array, off: number, len: number): number {
  switch (len) {
    case 1:
      return b[off];
    case 2:
      return (b[off] << 8) | b[off + 1];
    case 4:
      return ((b[off] << 24) >>> 0) + ((b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]);
    case 8:
      return (
        (((b[off] << 24) >>> 0) + ((b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3])) * 4294967296 +
        (((b[off + 4] << 24) >>> 0) + ((b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]))
      );
    default: {
      let v = 0;
      for (let i = 0; i < len; i++) v = v * 256 + b[off + i];
      return v;
    }
  }
}
