/*
 * Reads a ClickHouse Native block back (tests only): the column names, types and raw values as the
 * block states them — an independent reader of what storage/native.ts writes.
 */
const WIDTH: Record<string, number> = { DateTime: 4, 'FixedString(16)': 16, UInt8: 1, UInt16: 2, UInt32: 4, UInt64: 8 };

export interface NativeColumn {
  name: string;
  type: string;
  /** The column's values, WIDTH[type] bytes each. */
  data: Buffer;
  width: number;
}

export function readNativeBlock(buf: Buffer): { rows: number; columns: Map<string, NativeColumn> } {
  let p = 0;
  const varUInt = () => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++];
      if (b === undefined) throw new Error('Native block cut short in a VarUInt');
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  };
  const str = () => {
    const len = varUInt();
    const s = buf.toString('latin1', p, p + len);
    p += len;
    return s;
  };
  const ncols = varUInt();
  const rows = varUInt();
  const columns = new Map<string, NativeColumn>();
  for (let c = 0; c < ncols; c++) {
    const name = str();
    const type = str();
    const width = WIDTH[type];
    if (!width) throw new Error(`column ${name}: type ${type} not fixed-width`);
    if (p + rows * width > buf.length) throw new Error(`column ${name}: cut short`);
    columns.set(name, { name, type, width, data: buf.subarray(p, p + rows * width) });
    p += rows * width;
  }
  if (p !== buf.length) throw new Error(`${buf.length - p} bytes after the last column`);
  return { rows, columns };
}
