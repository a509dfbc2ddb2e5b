import { AddressPrefix } from './filter-ast';

/**
 * Address text <-> the 16-byte storage form (IPv4 as IPv4-mapped ::ffff:a.b.c.d, as in the flows
 * table and FlowBatch). Strict: no leading zeros in IPv4 octets (ambiguous: octal or decimal?), no
 * IPv6 zone ids, no whitespace.
 */

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseOctet(s: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(s)) return undefined;
  const v = Number(s);
  return v <= 255 ? v : undefined;
}

/** Dotted-quad IPv4 text to 4 bytes, or undefined. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const v = parseOctet(parts[i]);
    if (v === undefined) return undefined;
    out[i] = v;
  }
  return out;
}

/** IPv6 text (RFC 4291 forms, including `::` and a dotted IPv4 tail) to 16 bytes, or undefined. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): number[] | undefined => {
    if (s === '') return [];
    const parts = s.split(':');
    const words: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return undefined;
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return undefined;
        words.push(parseInt(p, 16));
      }
    }
    return words;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!head || !tail) return undefined;
  // A dotted tail is only allowed at the very end.
  if (halves.length === 2 && halves[0].includes('.')) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export interface ParsedAddress {
  family: 4 | 6;
  /** 16 bytes, IPv4 mapped into ::ffff:0:0/96. */
  bytes: Uint8Array;
}

/** IPv4 or IPv6 text to its family and 16-byte storage form, or undefined. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: mapV4(v4) };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, bytes: v6 };
  return undefined;
}

function mapV4(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(V4_MAPPED_PREFIX, 0);
  out.set(v4, 12);
  return out;
}

/** True for an IPv4-mapped address (::ffff:a.b.c.d). */
export function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (bytes[i] !== V4_MAPPED_PREFIX[i]) return false;
  return true;
}

/** 16 storage bytes to text: `a.b.c.d` for IPv4-mapped, RFC 5952 otherwise (the aggregate API's key form). */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`an address is 16 bytes, got ${bytes.length}`);
  if (isV4Mapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  // Longest run of two or more zero words (first one on ties) becomes '::'.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function hexToBytes(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new RangeError('not lowercase hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The prefix of `familyLength` bits (in the address's own space: 0-32 for IPv4, 0-128 for IPv6)
 * containing `address`; host bits set in the address are cleared, as routers do with `10.1.2.3/8`.
 */
export function makePrefix(address: ParsedAddress, familyLength: number): AddressPrefix {
  const length = address.family === 4 ? 96 + familyLength : familyLength;
  const first = new Uint8Array(16);
  const last = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, length - 8 * i));
    const mask = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    first[i] = address.bytes[i] & mask;
    last[i] = first[i] | (~mask & 0xff);
  }
  // The family follows the bytes: a prefix inside ::ffff:0:0/96 is IPv4 however it was written.
  const family = length >= 96 && isV4Mapped(first) ? 4 : 6;
  const base = formatAddress(first);
  return {
    family,
    length,
    first: bytesToHex(first),
    last: bytesToHex(last),
    text: length === 128 ? base : `${base}/${family === 4 ? length - 96 : length}`,
  };
}

/** A contiguous dotted-quad netmask (255.255.240.0) to its prefix length, or undefined. */
export function netmaskLength(text: string): number | undefined {
  const v4 = parseIPv4(text);
  if (!v4) return undefined;
  const n = ((v4[0] << 24) | (v4[1] << 16) | (v4[2] << 8) | v4[3]) >>> 0;
  const inverted = ~n >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined; // ones must be contiguous from the top
  let len = 0;
  for (let b = 31; b >= 0 && ((n >>> b) & 1) === 1; b--) len++;
  return len;
}

/**
 * `a.b.c.d/len`, the nfdump short forms `10/8`, `172.16/12`, `10.1.2/24` (missing octets are 0), or
 * `ipv6/len`, to a prefix; undefined when the text is not such a network.
 */
export function parseNetwork(text: string): AddressPrefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (!addr.includes(':')) {
    const parts = addr.split('.');
    if (parts.length < 1 || parts.length > 4 || len > 32) return undefined;
    while (parts.length < 4) parts.push('0');
    const v4 = parseIPv4(parts.join('.'));
    return v4 ? makePrefix({ family: 4, bytes: mapV4(v4) }, len) : undefined;
  }
  const v6 = parseIPv6(addr);
  if (!v6 || len > 128) return undefined;
  return makePrefix({ family: 6, bytes: v6 }, len);
}

/** `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` to the 48-bit number stored in src_mac/dst_mac, or undefined. */
export function parseMac(text: string): number | undefined {
  const m = /^([0-9A-Fa-f]{2})([:-])([0-9A-Fa-f]{2})\2([0-9A-Fa-f]{2})\2([0-9A-Fa-f]{2})\2([0-9A-Fa-f]{2})\2([0-9A-Fa-f]{2})$/.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (const i of [1, 3, 4, 5, 6, 7]) v = v * 256 + parseInt(m[i], 16);
  return v;
}

/** A 48-bit MAC number as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(value: number): string {
  const parts: number[] = [];
  for (let i = 5; i >= 0; i--) parts.push(Math.floor(value / 2 ** (8 * i)) % 256);
  return parts.map((p) => p.toString(16).padStart(2, '0')).join(':');
}
