/**
 * Test-only reader: walks NetFlow v5/v9/IPFIX datagrams using the templates
 * found on the wire (independently of the encoders) and totals what a
 * collector would see. Not exported from the library.
 */
export interface ExportTotals {
  datagrams: number;
  /** Datagrams without data records. */
  templateOnly: number;
  records: number;
  octets: number;
  packets: number;
  /** Header sequence field of each datagram, in order. */
  sequences: number[];
  /** Header export time (unix seconds) of each datagram. */
  exportSecs: number[];
  firstStartMs: number;
  lastEndMs: number;
  /** IPFIX: variable-length values in the 3-octet form / 1-octet form. */
  varlenLong: number;
  varlenShort: number;
  /** IPFIX: enterprise fields (pen 32473) read. */
  enterpriseFields: number;
  /** v9/IPFIX data records per template id. */
  recordsByTemplate: Record<number, number>;
  /** Anything that did not parse. */
  errors: string[];
}

interface TField {
  id: number;
  len: number;
  pen: number;
}

export function exportTotals(datagrams: Iterable<Uint8Array>): ExportTotals {
  const t: ExportTotals = {
    datagrams: 0, templateOnly: 0, records: 0, octets: 0, packets: 0, sequences: [], exportSecs: [],
    firstStartMs: Infinity, lastEndMs: -Infinity, varlenLong: 0, varlenShort: 0, enterpriseFields: 0, recordsByTemplate: {}, errors: [],
  };
  const templates = new Map<number, TField[]>();
  for (const d of datagrams) {
    const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    t.datagrams++;
    const before = t.records;
    try {
      const version = b.readUInt16BE(0);
      if (version === 5) v5(b, t);
      else if (version === 9) v9(b, t, templates);
      else if (version === 10) ipfix(b, t, templates);
      else t.errors.push(`datagram ${t.datagrams}: version ${version}`);
    } catch (e) {
      t.errors.push(`datagram ${t.datagrams}: ${(e as Error).message}`);
    }
    if (t.records === before) t.templateOnly++;
  }
  return t;
}

function times(t: ExportTotals, start: number, end: number): void {
  if (start < t.firstStartMs) t.firstStartMs = start;
  if (end > t.lastEndMs) t.lastEndMs = end;
}

function v5(b: Buffer, t: ExportTotals): void {
  const count = b.readUInt16BE(2);
  const uptime = b.readUInt32BE(4);
  const secs = b.readUInt32BE(8);
  const boot = secs * 1000 + Math.floor(b.readUInt32BE(12) / 1e6) - uptime;
  t.sequences.push(b.readUInt32BE(16));
  t.exportSecs.push(secs);
  if (b.length !== 24 + 48 * count) throw new Error(`v5 length ${b.length} for ${count} records`);
  for (let i = 0, o = 24; i < count; i++, o += 48) {
    t.records++;
    t.packets += b.readUInt32BE(o + 16);
    t.octets += b.readUInt32BE(o + 20);
    times(t, boot + b.readUInt32BE(o + 24), boot + b.readUInt32BE(o + 28));
  }
}

function v9(b: Buffer, t: ExportTotals, templates: Map<number, TField[]>): void {
  const uptime = b.readUInt32BE(4);
  const secs = b.readUInt32BE(8);
  const boot = secs * 1000 - uptime;
  t.sequences.push(b.readUInt32BE(12));
  t.exportSecs.push(secs);
  let o = 20;
  while (o + 4 <= b.length) {
    const id = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (len < 4 || o + len > b.length) throw new Error(`v9 flowset length ${len}`);
    const end = o + len;
    if (id === 0) {
      let p = o + 4;
      while (p + 4 <= end) {
        const tid = b.readUInt16BE(p);
        const n = b.readUInt16BE(p + 2);
        p += 4;
        const fields: TField[] = [];
        for (let i = 0; i < n; i++, p += 4) fields.push({ id: b.readUInt16BE(p), len: b.readUInt16BE(p + 2), pen: 0 });
        templates.set(tid, fields);
      }
    } else if (id >= 256) {
      const fields = templates.get(id);
      if (!fields) throw new Error(`v9 data for unknown template ${id}`);
      const recLen = fields.reduce((s, f) => s + f.len, 0);
      let p = o + 4;
      while (p + recLen <= end) {
        let start = 0;
        let last = 0;
        for (const f of fields) {
          const v = b.readUIntBE(p, Math.min(f.len, 6));
          if (f.id === 1) t.octets += v;
          else if (f.id === 2) t.packets += v;
          else if (f.id === 22) start = v;
          else if (f.id === 21) last = v;
          p += f.len;
        }
        t.records++;
        t.recordsByTemplate[id] = (t.recordsByTemplate[id] ?? 0) + 1;
        times(t, boot + start, boot + last);
      }
    }
    o = end;
  }
}

function readU64(b: Buffer, p: number): number {
  return b.readUInt32BE(p) * 0x100000000 + b.readUInt32BE(p + 4);
}

function ipfix(b: Buffer, t: ExportTotals, templates: Map<number, TField[]>): void {
  const msgLen = b.readUInt16BE(2);
  if (msgLen !== b.length) throw new Error(`IPFIX length field ${msgLen} != datagram ${b.length}`);
  t.exportSecs.push(b.readUInt32BE(4));
  t.sequences.push(b.readUInt32BE(8));
  let o = 16;
  while (o + 4 <= b.length) {
    const id = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (len < 4 || o + len > b.length) throw new Error(`IPFIX set length ${len}`);
    const end = o + len;
    if (id === 2) {
      let p = o + 4;
      while (p + 4 <= end) {
        const tid = b.readUInt16BE(p);
        const n = b.readUInt16BE(p + 2);
        p += 4;
        const fields: TField[] = [];
        for (let i = 0; i < n; i++) {
          const raw = b.readUInt16BE(p);
          const flen = b.readUInt16BE(p + 2);
          p += 4;
          let pen = 0;
          if (raw & 0x8000) {
            pen = b.readUInt32BE(p);
            p += 4;
          }
          fields.push({ id: raw & 0x7fff, len: flen, pen });
        }
        templates.set(tid, fields);
      }
    } else if (id >= 256) {
      const fields = templates.get(id);
      if (!fields) throw new Error(`IPFIX data for unknown template ${id}`);
      let p = o + 4;
      while (p < end) {
        let start = 0;
        let last = 0;
        for (const f of fields) {
          let flen = f.len;
          if (flen === 0xffff) {
            flen = b[p++];
            if (flen === 255) {
              flen = b.readUInt16BE(p);
              p += 2;
              t.varlenLong++;
            } else {
              t.varlenShort++;
            }
          }
          if (p + flen > end) throw new Error('IPFIX record overruns its set');
          if (f.pen !== 0) t.enterpriseFields++;
          else if (f.id === 1) t.octets += flen === 8 ? readU64(b, p) : b.readUIntBE(p, flen);
          else if (f.id === 2) t.packets += flen === 8 ? readU64(b, p) : b.readUIntBE(p, flen);
          else if (f.id === 152) start = readU64(b, p);
          else if (f.id === 153) last = readU64(b, p);
          p += flen;
        }
        t.records++;
        t.recordsByTemplate[id] = (t.recordsByTemplate[id] ?? 0) + 1;
        times(t, start, last);
      }
    }
    o = end;
  }
}
