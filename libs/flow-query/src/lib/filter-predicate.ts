import { hexToBytes } from './address';
import { AddressField, CompareOp, FilterNode, NumericField } from './filter-ast';

/**
 * One flow as the predicate reads it: canonical field names; addresses as 16 bytes in storage form
 * (IPv4 as ::ffff:a.b.c.d; a subarray of a FlowBatch address column works); every other field a
 * number (bytes/packets as doubles, exact up to 2^53; MACs as the 48-bit number).
 */
export type FlowRecordLike = Readonly<Record<AddressField, Uint8Array> & Record<NumericField | 'ip_version' | 'tcp_flags', number>>;

export type FlowPredicate = (row: FlowRecordLike) => boolean;

/**
 * The filter as a TypeScript function with the same semantics as compileFilterToSql's SQL (the
 * equivalence test holds them to each other in chDB and ClickHouse 18.16). For tests and for tagging
 * flows by channel on a node; queries run the SQL.
 */
export function compileFilterToPredicate(node: FilterNode): FlowPredicate {
  switch (node.type) {
    case 'and': {
      const cs = node.children.map(compileFilterToPredicate);
      return (r) => cs.every((c) => c(r));
    }
    case 'or': {
      const cs = node.children.map(compileFilterToPredicate);
      return (r) => cs.some((c) => c(r));
    }
    case 'not': {
      const c = compileFilterToPredicate(node.child);
      return (r) => !c(r);
    }
    case 'any':
      return () => true;
    case 'ref':
      return compileFilterToPredicate(node.filter);
    case 'ip_version': {
      const v = node.version;
      return (r) => r.ip_version === v;
    }
    case 'tcp_flags': {
      const m = node.mask;
      return (r) => r.protocol === 6 && (r.tcp_flags & m) === m;
    }
    case 'number': {
      const test = numberTest(node.op, node.values);
      return combine(node.fields.map((f) => (r: FlowRecordLike) => test(r[f])), node.match);
    }
    case 'address': {
      const ranges = node.prefixes.map((p) => [hexToBytes(p.first), hexToBytes(p.last)] as const);
      const inAny = (a: Uint8Array): boolean => ranges.some(([lo, hi]) => compare16(a, lo) >= 0 && compare16(a, hi) <= 0);
      return combine(node.fields.map((f) => (r: FlowRecordLike) => inAny(r[f])), node.match);
    }
    default:
      throw new Error(`unknown filter node type ${JSON.stringify((node as { type: unknown }).type)}`);
  }
}

function numberTest(op: CompareOp, values: number[]): (v: number) => boolean {
  const x = values[0];
  switch (op) {
    case 'eq': {
      if (values.length === 1) return (v) => v === x;
      const set = new Set(values);
      return (v) => set.has(v);
    }
    case 'lt':
      return (v) => v < x;
    case 'gt':
      return (v) => v > x;
    case 'le':
      return (v) => v <= x;
    case 'ge':
      return (v) => v >= x;
  }
}

function combine(tests: FlowPredicate[], match: 'any' | 'all'): FlowPredicate {
  if (tests.length === 1) return tests[0];
  return match === 'all' ? (r) => tests.every((t) => t(r)) : (r) => tests.some((t) => t(r));
}

/** Bytewise (unsigned, big-endian) comparison of two 16-byte addresses, as ClickHouse compares FixedString. */
function compare16(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return 0;
}
