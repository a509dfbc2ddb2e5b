import { ADDRESS_FIELDS, AddressField, AddressPrefix, CompareOp, FilterField, FilterNode, NUMERIC_FIELD_RANGES, NumericField } from './filter-ast';

export interface CompileSqlOptions {
  /**
   * The SQL column for a canonical field (default: the field name itself), e.g. to prefix a table
   * alias. Must return a plain identifier (`name` or `alias.name`); anything else is refused.
   */
  column?: (field: FilterField) => string;
}

const SQL_OPS: Readonly<Record<CompareOp, string>> = { eq: '=', lt: '<', gt: '>', le: '<=', ge: '>=' };
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const HEX16 = /^[0-9a-f]{32}$/;

/**
 * A ClickHouse boolean expression (for WHERE / countIf) equivalent to the filter, valid on ClickHouse
 * 18.16 and 26.x (chDB) alike, over the flows schema (addresses FixedString(16), IPv4 mapped).
 * Every literal is produced here from validated data: integers checked against their column's range,
 * addresses as `unhex('<32 hex digits>')` (FixedString(16) compares bytewise with it on both
 * versions, so a prefix is a range `first <= col <= last`). No text of the user's reaches the SQL.
 * The result is parenthesised, so callers may AND it with other conditions.
 *
 * Throws a plain Error only for an AST that parseFilter could not have produced (wrong field, value
 * out of range, malformed hex): a programming error, never a user error.
 */
export function compileFilterToSql(node: FilterNode, options: CompileSqlOptions = {}): string {
  const columnOf = (field: FilterField): string => {
    const c = options.column ? options.column(field) : field;
    if (typeof c !== 'string' || !IDENTIFIER.test(c)) throw new Error(`column for ${field} is not a plain identifier: ${JSON.stringify(c)}`);
    return c;
  };
  return paren(compile(node, columnOf));
}

function paren(sql: string): string {
  return sql.startsWith('(') && balancedOuter(sql) ? sql : `(${sql})`;
}

function compile(n: FilterNode, col: (f: FilterField) => string): string {
  switch (n.type) {
    case 'and':
      return n.children.length === 0 ? '1' : `(${n.children.map((c) => compile(c, col)).join(' AND ')})`;
    case 'or':
      return n.children.length === 0 ? '0' : `(${n.children.map((c) => compile(c, col)).join(' OR ')})`;
    case 'not':
      return `(NOT ${compile(n.child, col)})`;
    case 'any':
      return '1';
    case 'ref':
      return compile(n.filter, col);
    case 'ip_version':
      if (n.version !== 4 && n.version !== 6) throw new Error(`ip_version ${String(n.version)} is not 4 or 6`);
      return `(${col('ip_version')} = ${n.version})`;
    case 'tcp_flags': {
      const m = checkInt(n.mask, 0, 255, 'tcp_flags');
      return `(${col('protocol')} = 6 AND bitAnd(${col('tcp_flags')}, ${m}) = ${m})`;
    }
    case 'number': {
      if (!(n.op in SQL_OPS)) throw new Error(`unknown operator ${String(n.op)}`);
      if (n.values.length === 0) return '0';
      if (n.values.length > 1 && n.op !== 'eq') throw new Error(`operator ${n.op} takes one value`);
      const parts = checkFields(n.fields).map((f) => {
        const range = NUMERIC_FIELD_RANGES[f as NumericField];
        if (!range) throw new Error(`${String(f)} is not a numeric filter field`);
        const vs = n.values.map((v) => checkInt(v, range[0], range[1], f));
        return vs.length === 1 ? `${col(f)} ${SQL_OPS[n.op]} ${vs[0]}` : `${col(f)} IN (${vs.join(', ')})`;
      });
      return paren(parts.join(n.match === 'all' ? ' AND ' : ' OR '));
    }
    case 'address': {
      if (n.prefixes.length === 0) return '0';
      const prefixes = n.prefixes.map(checkPrefix);
      const hosts = prefixes.filter((p) => p.first === p.last);
      const nets = prefixes.filter((p) => p.first !== p.last);
      const parts = checkFields(n.fields).map((f) => {
        if (!(ADDRESS_FIELDS as readonly string[]).includes(f)) throw new Error(`${String(f)} is not an address field`);
        const c = col(f as AddressField);
        const tests: string[] = [];
        if (hosts.length === 1) tests.push(`${c} = unhex('${hosts[0].first}')`);
        if (hosts.length > 1) tests.push(`${c} IN (${hosts.map((h) => `unhex('${h.first}')`).join(', ')})`);
        for (const p of nets) tests.push(`(${c} >= unhex('${p.first}') AND ${c} <= unhex('${p.last}'))`);
        return tests.length === 1 ? tests[0] : `(${tests.join(' OR ')})`;
      });
      return parts.length === 1 ? paren(parts[0]) : `(${parts.join(n.match === 'all' ? ' AND ' : ' OR ')})`;
    }
    default:
      throw new Error(`unknown filter node type ${JSON.stringify((n as { type: unknown }).type)}`);
  }
}

function checkFields<F extends string>(fields: F[]): F[] {
  if (!Array.isArray(fields) || fields.length === 0) throw new Error('a filter term needs at least one field');
  return fields;
}

function checkInt(v: number, min: number, max: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new Error(`${what} value ${String(v)} is not an integer in ${min}-${max}`);
  return v;
}

function checkPrefix(p: AddressPrefix): AddressPrefix {
  if (!HEX16.test(p.first) || !HEX16.test(p.last) || p.first > p.last) throw new Error(`malformed address prefix ${JSON.stringify(p)}`);
  return p;
}

/** True when the leading '(' closes at the very end (so the string is already one parenthesised unit). */
function balancedOuter(sql: string): boolean {
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") {
      i = sql.indexOf("'", i + 1);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i === sql.length - 1;
  }
  return false;
}
