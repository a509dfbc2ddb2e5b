/** Address helpers: every address in a FlowBatch is 16 bytes, IPv4 stored IPv4-mapped (::ffff:a.b.c.d). */

/** Writes `v4` (host-order uint32) as ::ffff:a.b.c.d at out[off..off+16]. */
export function ipv4ToBytes16(v4: number, out: Uint8Array, off: number): void {
  for (let i = 0; i < 10; i++) out[off + i] = 0;
  out[off + 10] = 0xff;
  out[off + 11] = 0xff;
  out[off + 12] = (v4 >>> 24) & 0xff;
  out[off + 13] = (v4 >>> 16) & 0xff;
  out[off + 14] = (v4 >>> 8) & 0xff;
  out[off + 15] = v4 & 0xff;
}

function parseV4(text: string, start: number, end: number): number {
  let value = 0;
  let parts = 0;
  let i = start;
  while (i <= end) {
    let n = 0;
    let digits = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || n > 255) return -1;
    value = value * 256 + n;
    parts++;
    if (i === end) break;
    if (text.charCodeAt(i) !== 46 || parts === 4) return -1;
    i++;
  }
  return parts === 4 ? value : -1;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv4 dotted-quad or IPv6 text (with '::', an embedded IPv4 tail, an optional %zone) into 16 bytes.
 * Returns false, leaving `out` untouched, when the text is not an address.
 */
export function parseIpToBytes16(text: string, out: Uint8Array, off: number): boolean {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return false;
  let end = text.length;
  const zone = text.indexOf('%');
  if (zone >= 0) end = zone;
  if (text.indexOf(':') < 0) {
    const v4 = parseV4(text, 0, end);
    if (v4 < 0) return false;
    ipv4ToBytes16(v4, out, off);
    return true;
  }
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    // an IPv4 tail
    const nextColon = text.indexOf(':', i);
    const segEnd = nextColon < 0 || nextColon > end ? end : nextColon;
    if (segEnd === end && text.indexOf('.', i) >= 0 && text.indexOf('.', i) < end) {
      const v4 = parseV4(text, i, end);
      if (v4 < 0) return false;
      groups.push(Math.floor(v4 / 65536), v4 & 0xffff);
      i = end;
      break;
    }
    const len = segEnd - i;
    if (len < 1 || len > 4) return false;
    let g = 0;
    for (let k = i; k < segEnd; k++) {
      const h = hexVal(text.charCodeAt(k));
      if (h < 0) return false;
      g = g * 16 + h;
    }
    groups.push(g);
    i = segEnd;
    if (i === end) break;
    // at ':'
    i++;
    if (i === end) return false; // trailing single ':'
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
    }
  }
  if (groups.length > 8) return false;
  if (gap < 0 && groups.length !== 8) return false;
  if (gap >= 0 && groups.length > 7) return false;
  const full = new Array<number>(8).fill(0);
  if (gap < 0) {
    for (let k = 0; k < 8; k++) full[k] = groups[k];
  } else {
    for (let k = 0; k < gap; k++) full[k] = groups[k];
    const tail = groups.length - gap;
    for (let k = 0; k < tail; k++) full[8 - tail + k] = groups[gap + k];
  }
  for (let k = 0; k < 8; k++) {
    out[off + 2 * k] = full[k] >>> 8;
    out[off + 2 * k + 1] = full[k] & 0xff;
  }
  return true;
}

/** True when buf[off..off+16] is ::ffff:a.b.c.d. */
export function isV4Mapped(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (buf[off + i] !== 0) return false;
  return buf[off + 10] === 0xff && buf[off + 11] === 0xff;
}

/** IPv4-mapped -> 'a.b.c.d'; anything else -> RFC 5952 IPv6 text. */
export function bytes16ToIpText(buf: Uint8Array, off: number): string {
  if (isV4Mapped(buf, off)) {
    return `${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  }
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((buf[off + 2 * k] << 8) | buf[off + 2 * k + 1]);
  // longest run of >= 2 zero groups, first one on ties (RFC 5952 §4.2)
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let j = k;
    while (j < 8 && g[j] === 0) j++;
    if (j - k > bestLen) {
      bestLen = j - k;
      bestStart = k;
    }
    k = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** 48-bit MAC number -> 'aa:bb:cc:dd:ee:ff'. */
export function macToText(mac: number): string {
  const hi = Math.floor(mac / 4294967296) & 0xffff;
  const lo = mac >>> 0;
  const bytes = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  let s = '';
  for (let i = 0; i < 6; i++) {
    if (i > 0) s += ':';
    s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  }
  return s;
}
