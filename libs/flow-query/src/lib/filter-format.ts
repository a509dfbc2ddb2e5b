import { formatMac } from './address';
import { AddressField, AddressNode, CompareOp, FieldMatch, FilterNode, NumberNode, NumericField } from './filter-ast';

const OP_TEXT: Readonly<Record<CompareOp, string>> = { eq: '', lt: '< ', gt: '> ', le: '<= ', ge: '>= ' };
const FLAG_ORDER: ReadonlyArray<[string, number]> = [['C', 128], ['E', 64], ['U', 32], ['A', 16], ['P', 8], ['R', 4], ['S', 2], ['F', 1]];
const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'icmp6', 132: 'sctp' };

interface FieldGroup {
  keyword: string;
  src: string;
  dst: string;
}

const NUMBER_GROUPS: FieldGroup[] = [
  { keyword: 'port', src: 'src_port', dst: 'dst_port' },
  { keyword: 'as', src: 'src_as', dst: 'dst_as' },
  { keyword: 'mask', src: 'src_mask', dst: 'dst_mask' },
  { keyword: 'mac', src: 'src_mac', dst: 'dst_mac' },
];
const SINGLE_NUMBER_KEYWORDS: Partial<Record<NumericField, string>> = {
  protocol: 'proto', tos: 'tos', vlan: 'vlan', bytes: 'bytes', packets: 'packets', in_if: 'in if', out_if: 'out if',
};

/**
 * Canonical filter text for an AST: lowercase keywords, single spaces, parentheses only where
 * precedence needs them, references kept as `channel NAME` (not expanded). Parsing the result gives
 * an equivalent filter; formatting that again gives the same text.
 */
export function formatFilter(node: FilterNode): string {
  switch (node.type) {
    case 'and':
      return node.children.length === 0 ? 'any' : node.children.map((c) => (c.type === 'or' ? `(${formatFilter(c)})` : formatFilter(c))).join(' and ');
    case 'or':
      return node.children.length === 0 ? 'not any' : node.children.map(formatFilter).join(' or ');
    case 'not': {
      const c = node.child;
      const inner = formatFilter(c);
      return c.type === 'and' || c.type === 'or' ? `not (${inner})` : `not ${inner}`;
    }
    case 'any':
      return 'any';
    case 'ref':
      return `${node.kind} ${node.name}`;
    case 'ip_version':
      return node.version === 4 ? 'inet' : 'inet6';
    case 'tcp_flags':
      return node.mask === 0 ? 'proto tcp' : `flags ${FLAG_ORDER.filter(([, b]) => (node.mask & b) !== 0).map(([l]) => l).join('')}`;
    case 'number':
      return formatNumber(node);
    case 'address':
      return formatAddressNode(node);
  }
}

function direction(fields: readonly string[], match: FieldMatch, g: { src: string; dst: string }): string | undefined {
  if (fields.length === 1) return fields[0] === g.src ? 'src ' : fields[0] === g.dst ? 'dst ' : undefined;
  if (fields.length === 2 && fields.includes(g.src) && fields.includes(g.dst)) return match === 'all' ? 'src and dst ' : '';
  return undefined;
}

/** Joins per-field renderings when the fields don't form one `[src|dst] keyword` group. */
function perField<T extends { fields: F[]; match: FieldMatch }, F>(node: T, render: (n: T) => string): string {
  const parts = node.fields.map((f) => render({ ...node, fields: [f] }));
  return parts.length === 1 ? parts[0] : `(${parts.join(node.match === 'all' ? ' and ' : ' or ')})`;
}

function formatNumber(node: NumberNode): string {
  const value = (f: NumericField, v: number): string => (f === 'src_mac' || f === 'dst_mac' ? formatMac(v) : f === 'protocol' && PROTOCOL_NAMES[v] ? PROTOCOL_NAMES[v] : String(v));
  const tail = (f: NumericField): string =>
    node.values.length === 1 ? `${OP_TEXT[node.op]}${value(f, node.values[0])}` : `in [ ${node.values.map((v) => value(f, v)).join(' ')} ]`;
  if (node.values.length === 0) return 'not any';
  for (const g of NUMBER_GROUPS) {
    const d = direction(node.fields, node.match, g);
    if (d !== undefined) return `${d}${g.keyword} ${tail(node.fields[0])}`;
  }
  if (node.fields.length === 2 && node.fields.includes('in_if') && node.fields.includes('out_if') && node.match === 'any') return `if ${tail('in_if')}`;
  if (node.fields.length === 1) {
    const kw = SINGLE_NUMBER_KEYWORDS[node.fields[0]];
    if (kw) return `${kw} ${tail(node.fields[0])}`;
  }
  return perField(node, formatNumber);
}

function formatAddressNode(node: AddressNode): string {
  if (node.prefixes.length === 0) return 'not any';
  const hosts = node.prefixes.every((p) => p.first === p.last);
  if (!hosts && node.prefixes.length > 1) {
    // No syntax for a list of networks: one term per network (per field when all fields must match).
    if (node.fields.length > 1 && node.match === 'all') return perField(node, formatAddressNode);
    return `(${node.prefixes.map((p) => formatAddressNode({ ...node, prefixes: [p] })).join(' or ')})`;
  }
  const value = hosts
    ? node.prefixes.length === 1 ? `ip ${node.prefixes[0].text}` : `ip in [ ${node.prefixes.map((p) => p.text).join(' ')} ]`
    : `net ${node.prefixes[0].text}`;
  const d = direction(node.fields, node.match, { src: 'src_addr', dst: 'dst_addr' });
  if (d !== undefined) return `${d}${value}`;
  if (node.fields.length === 1) {
    const f: AddressField = node.fields[0];
    if (f === 'next_hop') return `next ${value}`;
    if (f === 'exporter_addr') return `exporter ${value}`;
  }
  return perField(node, formatAddressNode);
}
