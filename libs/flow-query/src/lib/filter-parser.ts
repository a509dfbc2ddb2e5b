import { makePrefix, netmaskLength, parseAddress, parseMac, parseNetwork } from './address';
import {
  AddressField,
  AddressNode,
  AddressPrefix,
  CompareOp,
  FieldMatch,
  FilterNode,
  NUMERIC_FIELD_RANGES,
  NumberNode,
  NumericField,
  ReferenceKind,
} from './filter-ast';
import { Token, tokenize } from './filter-lexer';
import { END_OF_INPUT, FilterSyntaxError, quoteFound, shortText } from './filter-syntax-error';

/** Returns the filter text of a channel or profile, or undefined when there is no such one. */
export type FilterResolver = (kind: ReferenceKind, name: string) => string | undefined;

export interface ParseFilterOptions {
  /** Resolves `channel NAME` / `profile NAME`; without it such a reference is a syntax error. */
  resolve?: FilterResolver;
  /** Longest accepted filter text, in UTF-16 code units (each referenced filter too). Default 16384. */
  maxLength?: number;
  /** Deepest nesting of parentheses, `not` and references together. Default 64. */
  maxDepth?: number;
  /**
   * Most comparisons in the whole filter, references expanded: each field a term tests counts 1 per
   * value, a network range 2, an `in [ ... ]` list 1 (`ip 10.1.2.3` is 2: src and dst;
   * `src net 10.0.0.0/8` is 2; `port in [ 80 443 ]` is 2). ClickHouse 18.16 spends time quadratic in
   * the number of OR-ed comparisons analysing a query (500 comparisons: ~0.5 s; 2000: ~6 s), so keep
   * this low. Default 500.
   */
  maxComparisons?: number;
  /**
   * Most values inside `in [ ... ]` lists, references expanded, times the fields each list tests
   * (`ip in [ a b c ]` is 6). Lists compile to one `IN (...)` per field, cheap to analyse; this bounds
   * the SQL text (with the other limits, under ClickHouse's 256 KiB max_query_size). Default 4000.
   */
  maxListValues?: number;
}

export const FILTER_LIMITS = { maxLength: 16384, maxDepth: 64, maxComparisons: 500, maxListValues: 4000 } as const;

/** IP protocol names accepted by `proto` (IANA numbers). */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ipip: 4,
  ipencap: 4,
  tcp: 6,
  egp: 8,
  udp: 17,
  ipv6: 41,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  icmp6: 58,
  'ipv6-icmp': 58,
  icmpv6: 58,
  eigrp: 88,
  ospf: 89,
  pim: 103,
  vrrp: 112,
  l2tp: 115,
  sctp: 132,
};

/** TCP flag letters accepted by `flags` and their bits; X is all six classic flags (nfdump). */
export const TCP_FLAG_BITS: Readonly<Record<string, number>> = { f: 1, s: 2, r: 4, p: 8, a: 16, u: 32, e: 64, c: 128, x: 63 };

const TERM_KEYWORDS = [
  '(', 'not', '!', 'any', 'src', 'dst', 'ip', 'host', 'net', 'port', 'as', 'mask', 'mac', 'in', 'out', 'if', 'proto',
  'tos', 'vlan', 'flags', 'bytes', 'packets', 'inet', 'inet6', 'ipv4', 'ipv6', 'next', 'router', 'exporter',
  'channel', 'profile',
];
const DIRECTED_KEYWORDS = ['ip', 'host', 'net', 'port', 'as', 'mask', 'mac'];
const OPERATORS: Readonly<Record<string, CompareOp>> = {
  '=': 'eq', '==': 'eq', eq: 'eq', '<': 'lt', lt: 'lt', '>': 'gt', gt: 'gt', '<=': 'le', le: 'le', '>=': 'ge', ge: 'ge',
};
const OPERATOR_SPELLINGS = ['=', '==', '<', '>', '<=', '>=', 'eq', 'lt', 'gt', 'le', 'ge'];
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

type Direction = 'src' | 'dst' | 'either' | 'both';

interface ValueSpec {
  /** For messages: `a port number`. */
  what: string;
  /** For `expected`: `<port number>`. */
  placeholder: string;
  /** The word's value, or undefined when it is not one; `range` when it is a number out of range. */
  parse: (word: string) => number | undefined | 'range';
  rangeText: string;
}

interface SharedState {
  options: Required<Omit<ParseFilterOptions, 'resolve'>> & { resolve?: FilterResolver };
  comparisons: number;
  listValues: number;
  /** `kind:name` of the references being expanded, outermost first. */
  refStack: string[];
}

/**
 * Parses an nfdump-style filter into a typed AST (see the library README for the grammar). Blank text
 * is `any`. Raises FilterSyntaxError, and nothing else, for any text it does not accept (a resolver
 * that throws is reported as a FilterSyntaxError too).
 */
export function parseFilter(text: string, options: ParseFilterOptions = {}): FilterNode {
  const shared: SharedState = {
    options: {
      maxLength: options.maxLength ?? FILTER_LIMITS.maxLength,
      maxDepth: options.maxDepth ?? FILTER_LIMITS.maxDepth,
      maxComparisons: options.maxComparisons ?? FILTER_LIMITS.maxComparisons,
      maxListValues: options.maxListValues ?? FILTER_LIMITS.maxListValues,
      resolve: options.resolve,
    },
    comparisons: 0,
    listValues: 0,
    refStack: [],
  };
  return parseWith(text, shared, 0);
}

function parseWith(text: unknown, shared: SharedState, depth: number): FilterNode {
  if (typeof text !== 'string') throw new FilterSyntaxError(0, ['<filter text>'], typeof text, `expected filter text, found ${typeof text}`);
  if (text.length > shared.options.maxLength) {
    throw new FilterSyntaxError(shared.options.maxLength, [], shortText(text.slice(shared.options.maxLength)),
      `filter is longer than ${shared.options.maxLength} characters`);
  }
  return new Parser(tokenize(text), shared, depth).parseAll();
}

function uintParser(min: number, max: number): (w: string) => number | undefined | 'range' {
  return (w) => {
    if (!/^[0-9]+$/.test(w)) return undefined;
    if (w.length > 16) return 'range';
    const v = Number(w);
    return v >= min && v <= max ? v : 'range';
  };
}

function fieldSpec(field: NumericField, what: string, placeholder: string): ValueSpec {
  const [min, max] = NUMERIC_FIELD_RANGES[field];
  return { what, placeholder, parse: uintParser(min, max), rangeText: `${min}-${max}` };
}

const SCALES: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

function countSpec(what: string, placeholder: string): ValueSpec {
  return {
    what,
    placeholder,
    parse: (w) => {
      const m = /^([0-9]+)([kmgtKMGT]?)$/.exec(w);
      if (!m) return undefined;
      if (m[1].length > 16) return 'range';
      const v = Number(m[1]) * SCALES[m[2].toLowerCase()];
      return Number.isSafeInteger(v) ? v : 'range';
    },
    rangeText: `0-${Number.MAX_SAFE_INTEGER}, k/m/g/t = 10^3/10^6/10^9/10^12`,
  };
}

const PROTO_SPEC: ValueSpec = {
  what: 'a protocol name or number',
  placeholder: '<protocol>',
  parse: (w) => {
    const named = PROTOCOL_NUMBERS[w.toLowerCase()];
    if (named !== undefined) return named;
    return uintParser(0, 255)(w);
  },
  rangeText: '0-255 or tcp, udp, icmp, icmp6, gre, esp, ah, sctp, ...',
};

const MAC_SPEC: ValueSpec = {
  what: 'a MAC address',
  placeholder: '<MAC address>',
  parse: (w) => parseMac(w),
  rangeText: 'aa:bb:cc:dd:ee:ff',
};

class Parser {
  private i = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly shared: SharedState,
    private depth: number,
  ) {}

  parseAll(): FilterNode {
    if (this.peek().kind === 'end') return { type: 'any', pos: 0 };
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t, ['and', 'or', '&&', '||', END_OF_INPUT], `'and', 'or' or end of input`);
    return node;
  }

  // ---- boolean structure: or < and < not ----

  private parseOr(): FilterNode {
    const first = this.parseAnd();
    const children = [first];
    while (this.isWord('or') || this.isOp('||')) {
      this.i++;
      children.push(this.parseAnd());
    }
    return children.length === 1 ? first : { type: 'or', children, pos: first.pos };
  }

  private parseAnd(): FilterNode {
    const first = this.parseUnary();
    const children = [first];
    while (this.isWord('and') || this.isOp('&&')) {
      this.i++;
      children.push(this.parseUnary());
    }
    return children.length === 1 ? first : { type: 'and', children, pos: first.pos };
  }

  private parseUnary(): FilterNode {
    const t = this.peek();
    if (this.isWord('not') || this.isOp('!')) {
      this.enter(t);
      this.i++;
      const child = this.parseUnary();
      this.depth--;
      return { type: 'not', child, pos: t.pos };
    }
    if (this.isOp('(')) {
      this.enter(t);
      this.i++;
      const inner = this.parseOr();
      const close = this.peek();
      if (!this.isOp(')')) this.fail(close, [')', 'and', 'or', '&&', '||'], `')', 'and' or 'or'`);
      this.i++;
      this.depth--;
      return inner;
    }
    return this.parseTerm();
  }

  // ---- terms ----

  private parseTerm(): FilterNode {
    const t = this.peek();
    if (t.kind !== 'word') this.fail(t, TERM_KEYWORDS, 'a filter term');
    switch (t.lower) {
      case 'any':
        this.i++;
        this.count(t, 1);
        return { type: 'any', pos: t.pos };
      case 'inet':
      case 'ipv4':
        this.i++;
        this.count(t, 1);
        return { type: 'ip_version', version: 4, pos: t.pos };
      case 'inet6':
      case 'ipv6':
        this.i++;
        this.count(t, 1);
        return { type: 'ip_version', version: 6, pos: t.pos };
      case 'src':
      case 'dst':
        return this.parseDirected(t);
      case 'ip':
      case 'host':
      case 'net':
      case 'port':
      case 'as':
      case 'mask':
      case 'mac':
        return this.parseDirectedField(t, 'either');
      case 'in':
      case 'out': {
        this.i++;
        const k = this.peek();
        if (!this.isWord('if')) this.fail(k, ['if'], `'if'`);
        this.i++;
        return this.parseNumber(t, [t.lower === 'in' ? 'in_if' : 'out_if'], 'any', fieldSpec('in_if', 'an interface index', '<interface index>'));
      }
      case 'if':
        this.i++;
        return this.parseNumber(t, ['in_if', 'out_if'], 'any', fieldSpec('in_if', 'an interface index', '<interface index>'));
      case 'proto':
        this.i++;
        return this.parseNumber(t, ['protocol'], 'any', PROTO_SPEC);
      case 'tos':
        this.i++;
        return this.parseNumber(t, ['tos'], 'any', fieldSpec('tos', 'a ToS value', '<tos>'));
      case 'vlan':
        this.i++;
        return this.parseNumber(t, ['vlan'], 'any', fieldSpec('vlan', 'a VLAN id', '<vlan id>'));
      case 'bytes':
        this.i++;
        return this.parseNumber(t, ['bytes'], 'any', countSpec('a byte count', '<byte count>'));
      case 'packets':
        this.i++;
        return this.parseNumber(t, ['packets'], 'any', countSpec('a packet count', '<packet count>'));
      case 'flags':
        return this.parseFlags(t);
      case 'next': {
        this.i++;
        const k = this.peek();
        if (!(this.isWord('ip') || this.isWord('host') || this.isWord('net'))) this.fail(k, ['ip', 'host', 'net'], `'ip', 'host' or 'net'`);
        this.i++;
        return k.lower === 'net' ? this.parseNet(t, ['next_hop'], 'any') : this.parseHosts(t, ['next_hop'], 'any');
      }
      case 'router': {
        this.i++;
        const k = this.peek();
        if (!this.isWord('ip')) this.fail(k, ['ip'], `'ip'`);
        this.i++;
        return this.parseHosts(t, ['exporter_addr'], 'any');
      }
      case 'exporter':
        return this.parseExporter(t);
      case 'channel':
      case 'profile':
        return this.parseReference(t, t.lower);
      default:
        return this.fail(t, TERM_KEYWORDS, 'a filter term');
    }
  }

  /** `src ...`, `dst ...`, `src or dst ...`, `src and dst ...`. */
  private parseDirected(first: Token): FilterNode {
    this.i++;
    let dir: Direction = first.lower as 'src' | 'dst';
    const other = dir === 'src' ? 'dst' : 'src';
    const conj = this.peek();
    const after = this.tokens[this.i + 1];
    if ((this.isWord('and') || this.isWord('or') || this.isOp('&&') || this.isOp('||')) && after?.kind === 'word' && after.lower === other) {
      dir = conj.lower === 'and' || conj.lower === '&&' ? 'both' : 'either';
      this.i += 2;
    }
    const k = this.peek();
    if (k.kind !== 'word' || !DIRECTED_KEYWORDS.includes(k.lower)) this.fail(k, DIRECTED_KEYWORDS, `'ip', 'host', 'net', 'port', 'as', 'mask' or 'mac'`);
    return this.parseDirectedField(first, dir);
  }

  /** The keyword after an optional direction: ip/host/net/port/as/mask/mac. */
  private parseDirectedField(start: Token, dir: Direction): FilterNode {
    const k = this.peek();
    this.i++;
    const pick = <F extends string>(src: F, dst: F): { fields: F[]; match: FieldMatch } =>
      dir === 'src' ? { fields: [src], match: 'any' } : dir === 'dst' ? { fields: [dst], match: 'any' } : { fields: [src, dst], match: dir === 'both' ? 'all' : 'any' };
    switch (k.lower) {
      case 'ip':
      case 'host': {
        const { fields, match } = pick<AddressField>('src_addr', 'dst_addr');
        return this.parseHosts(start, fields, match);
      }
      case 'net': {
        const { fields, match } = pick<AddressField>('src_addr', 'dst_addr');
        return this.parseNet(start, fields, match);
      }
      case 'port': {
        const { fields, match } = pick<NumericField>('src_port', 'dst_port');
        return this.parseNumber(start, fields, match, fieldSpec('src_port', 'a port number', '<port number>'));
      }
      case 'as': {
        const { fields, match } = pick<NumericField>('src_as', 'dst_as');
        return this.parseNumber(start, fields, match, fieldSpec('src_as', 'an AS number', '<AS number>'));
      }
      case 'mask': {
        const { fields, match } = pick<NumericField>('src_mask', 'dst_mask');
        return this.parseNumber(start, fields, match, fieldSpec('src_mask', 'a mask length', '<mask length>'));
      }
      default: {
        const { fields, match } = pick<NumericField>('src_mac', 'dst_mac');
        return this.parseNumber(start, fields, match, MAC_SPEC);
      }
    }
  }

  /** `<addr>` or `in [ <addr> ... ]` after ip/host. */
  private parseHosts(start: Token, fields: AddressField[], match: FieldMatch): AddressNode {
    const hostItem = (expected: string[]): AddressPrefix => {
      const t = this.peek();
      const a = t.kind === 'word' ? parseAddress(t.text) : undefined;
      if (!a) this.fail(t, expected, t.kind === 'word' && parseNetwork(t.text) ? `an IP address (a network needs 'net')` : 'an IP address');
      this.i++;
      return makePrefix(a, a.family === 4 ? 32 : 128);
    };
    if (this.isWord('in')) {
      const open = this.tokens[++this.i];
      const listed = this.parseList(() => hostItem(['<IP address>', ']']), () => hostItem(['<IP address>']));
      const unique = [...new Map(listed.map((x) => [x.first, x])).values()];
      this.count(start, fields.length);
      this.countList(open, fields.length * unique.length);
      return { type: 'address', fields, match, prefixes: unique, pos: start.pos };
    }
    const prefixes = [hostItem(['in', '<IP address>'])];
    this.count(start, fields.length);
    return { type: 'address', fields, match, prefixes, pos: start.pos };
  }

  /** `a.b.c.d/len`, `a.b/len`, `a.b.c.d m.m.m.m`, `ipv6/len` after net. */
  private parseNet(start: Token, fields: AddressField[], match: FieldMatch): AddressNode {
    const prefix = this.parseNetwork();
    this.count(start, fields.length * (prefix.first === prefix.last ? 1 : 2));
    return { type: 'address', fields, match, prefixes: [prefix], pos: start.pos };
  }

  private parseNetwork(): AddressPrefix {
    const t = this.peek();
    const what = 'a network such as 10.0.0.0/8, 10.0.0.0 255.0.0.0 or 2001:db8::/32';
    if (t.kind !== 'word') this.fail(t, ['<network>'], what);
    const slash = t.text.indexOf('/');
    if (slash >= 0) {
      const p = parseNetwork(t.text);
      if (!p) {
        const len = t.text.slice(slash + 1);
        const base = t.text.slice(0, slash);
        const v6 = base.includes(':');
        if (/^[0-9]+$/.test(len) && (v6 ? parseAddress(base) : parseNetwork(`${base}/0`))) {
          this.fail(t, ['<network>'], `a prefix length of 0-${v6 ? 128 : 32}`);
        }
        this.fail(t, ['<network>'], what);
      }
      this.i++;
      return p;
    }
    const a = parseAddress(t.text);
    if (!a) this.fail(t, ['<network>'], what);
    if (a.family === 6) this.fail(t, ['<network>'], 'an IPv6 network with a prefix length (2001:db8::/32)');
    this.i++;
    const m = this.peek();
    const len = m.kind === 'word' ? netmaskLength(m.text) : undefined;
    if (len === undefined) {
      const isQuad = m.kind === 'word' && parseAddress(m.text)?.family === 4;
      this.fail(m, ['<netmask>'], isQuad ? 'a contiguous netmask such as 255.255.0.0' : 'a netmask such as 255.255.255.0 (or write a.b.c.d/len)');
    }
    this.i++;
    return makePrefix(a, len);
  }

  /** `exporter <addr>`, `exporter <cidr>`, `exporter ip|host <addr | in [...]>`, `exporter net <network>`. */
  private parseExporter(start: Token): AddressNode {
    this.i++;
    if (this.isWord('ip') || this.isWord('host')) {
      this.i++;
      return this.parseHosts(start, ['exporter_addr'], 'any');
    }
    if (this.isWord('net')) {
      this.i++;
      return this.parseNet(start, ['exporter_addr'], 'any');
    }
    const t = this.peek();
    if (t.kind === 'word' && t.text.includes('/')) return this.parseNet(start, ['exporter_addr'], 'any');
    if (t.kind === 'word' && parseAddress(t.text)) return this.parseHosts(start, ['exporter_addr'], 'any');
    return this.fail(t, ['ip', 'host', 'net', '<IP address>', '<network>'], 'an IP address or network');
  }

  /** `[op] value` or `in [ value ... ]`. */
  private parseNumber(start: Token, fields: NumericField[], match: FieldMatch, spec: ValueSpec): NumberNode {
    const t = this.peek();
    const op = OPERATORS[t.lower];
    if (op !== undefined && (t.kind === 'op' || t.kind === 'word')) {
      this.i++;
      const value = this.parseValue(spec, [spec.placeholder]);
      this.count(start, fields.length);
      return { type: 'number', fields, match, op, values: [value], pos: start.pos };
    }
    if (this.isWord('in')) {
      const open = this.tokens[++this.i];
      const values = [...new Set(this.parseList(() => this.parseValue(spec, [spec.placeholder, ']']), () => this.parseValue(spec, [spec.placeholder])))];
      this.count(start, fields.length);
      this.countList(open, fields.length * values.length);
      return { type: 'number', fields, match, op: 'eq', values, pos: start.pos };
    }
    const value = this.parseValue(spec, [...OPERATOR_SPELLINGS, 'in', spec.placeholder]);
    this.count(start, fields.length);
    return { type: 'number', fields, match, op: 'eq', values: [value], pos: start.pos };
  }

  private parseValue(spec: ValueSpec, expected: string[]): number {
    const t = this.peek();
    const v = t.kind === 'word' ? spec.parse(t.text) : undefined;
    if (v === undefined) this.fail(t, expected, spec.what);
    if (v === 'range') this.fail(t, expected, `${spec.what} (${spec.rangeText})`);
    this.i++;
    return v;
  }

  /** `[ item { [,] item } ]`: `item` parses an item where `]` may also come, `firstItem` one where it may not. */
  private parseList<T>(item: () => T, firstItem: () => T): T[] {
    const open = this.peek();
    if (!this.isOp('[')) this.fail(open, ['['], `'['`);
    this.i++;
    const items = [firstItem()];
    for (;;) {
      if (this.isOp(']')) {
        this.i++;
        return items;
      }
      if (this.isOp(',')) {
        this.i++;
        items.push(firstItem());
      } else {
        items.push(item());
      }
    }
  }

  private parseFlags(start: Token): FilterNode {
    this.i++;
    const t = this.peek();
    if (t.kind !== 'word' || !/^[fsrpauecx]+$/i.test(t.text)) this.fail(t, ['<tcp flags>'], 'TCP flags (letters of UAPRSFEC, or X for all)');
    let mask = 0;
    for (const c of t.lower) mask |= TCP_FLAG_BITS[c];
    this.i++;
    this.count(start, 2);
    return { type: 'tcp_flags', mask, pos: start.pos };
  }

  private parseReference(start: Token, kind: ReferenceKind): FilterNode {
    this.i++;
    const t = this.peek();
    if (t.kind !== 'word' || !NAME.test(t.text)) this.fail(t, ['<name>'], `a ${kind} name`);
    this.i++;
    const name = t.text;
    const { resolve } = this.shared.options;
    if (!resolve) this.fail(t, [], `${kind} '${name}' cannot be used here (no ${kind}s to resolve it against)`);
    const key = `${kind}:${name}`;
    const stack = this.shared.refStack;
    if (stack.includes(key)) {
      const chain = [...stack.slice(stack.indexOf(key)), key].map((k) => k.replace(':', ' ')).join(' -> ');
      this.fail(t, [], `${kind} '${name}' refers to itself (${chain})`);
    }
    this.enter(t);
    let text: string | undefined;
    try {
      text = resolve(kind, name);
    } catch (e) {
      throw new FilterSyntaxError(t.pos, [], t.text, `${kind} '${name}' could not be resolved: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    if (typeof text !== 'string') this.fail(t, [], `unknown ${kind} '${name}'`);
    stack.push(key);
    let filter: FilterNode;
    try {
      filter = parseWith(text, this.shared, this.depth);
    } catch (e) {
      if (!(e instanceof FilterSyntaxError)) throw e;
      throw new FilterSyntaxError(t.pos, e.expected, e.found, `in ${kind} '${name}': ${e.message}`, { cause: e });
    } finally {
      stack.pop();
    }
    this.depth--;
    return { type: 'ref', kind, name, filter, pos: start.pos };
  }

  // ---- helpers ----

  private peek(): Token {
    return this.tokens[this.i];
  }

  private isWord(w: string): boolean {
    const t = this.tokens[this.i];
    return t.kind === 'word' && t.lower === w;
  }

  private isOp(o: string): boolean {
    const t = this.tokens[this.i];
    return t.kind === 'op' && t.text === o;
  }

  private enter(t: Token): void {
    if (++this.depth > this.shared.options.maxDepth) {
      this.fail(t, [], `filter is nested more than ${this.shared.options.maxDepth} levels deep`);
    }
  }

  private count(t: Token, n: number): void {
    this.shared.comparisons += n;
    if (this.shared.comparisons > this.shared.options.maxComparisons) {
      this.fail(t, [], `filter has more than ${this.shared.options.maxComparisons} comparisons`);
    }
  }

  private countList(t: Token, n: number): void {
    this.shared.listValues += n;
    if (this.shared.listValues > this.shared.options.maxListValues) {
      this.fail(t, [], `filter has more than ${this.shared.options.maxListValues} list values`);
    }
  }

  private fail(t: Token, expected: string[], what: string): never {
    const found = t.kind === 'end' ? END_OF_INPUT : shortText(t.text);
    const shown = t.kind === 'end' ? END_OF_INPUT : quoteFound(t.text);
    const reason = expected.length === 0 ? what : `expected ${what}, found ${shown}`;
    throw new FilterSyntaxError(t.pos, expected, found, reason);
  }
}
