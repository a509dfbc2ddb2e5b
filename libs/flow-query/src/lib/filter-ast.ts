/**
 * The typed AST of a flow filter. Plain JSON-serialisable data (numbers are safe integers, addresses are
 * hex text), so a parsed filter can be stored, sent to a node, or shown in an API answer as it is.
 *
 * Every leaf names canonical flow fields (the storage column names). `match` says how a leaf over
 * several fields combines them: `any` = at least one field matches (nfdump's `ip X` = src or dst),
 * `all` = every field matches (`src and dst port 53`).
 */

export const ADDRESS_FIELDS = ['src_addr', 'dst_addr', 'next_hop', 'exporter_addr'] as const;
export type AddressField = (typeof ADDRESS_FIELDS)[number];

/** Numeric fields a filter may test, with the inclusive value range of their storage column. */
export const NUMERIC_FIELD_RANGES = {
  src_port: [0, 0xffff],
  dst_port: [0, 0xffff],
  protocol: [0, 0xff],
  tos: [0, 0xff],
  src_as: [0, 0xffffffff],
  dst_as: [0, 0xffffffff],
  in_if: [0, 0xffffffff],
  out_if: [0, 0xffffffff],
  src_mask: [0, 128],
  dst_mask: [0, 128],
  vlan: [0, 0xffff],
  bytes: [0, Number.MAX_SAFE_INTEGER],
  packets: [0, Number.MAX_SAFE_INTEGER],
  src_mac: [0, 0xffffffffffff],
  dst_mac: [0, 0xffffffffffff],
} as const satisfies Record<string, readonly [number, number]>;
export type NumericField = keyof typeof NUMERIC_FIELD_RANGES;
export const NUMERIC_FIELDS = Object.keys(NUMERIC_FIELD_RANGES) as NumericField[];

/** Every column a filter can reference (for a planner choosing the coarsest table that has them). */
export type FilterField = AddressField | NumericField | 'ip_version' | 'tcp_flags';

export type CompareOp = 'eq' | 'lt' | 'gt' | 'le' | 'ge';
export type FieldMatch = 'any' | 'all';
export type ReferenceKind = 'channel' | 'profile';

/**
 * An address prefix in the 16-byte storage space (IPv4 as ::ffff:a.b.c.d). `first`/`last` are the
 * lowest and highest address of the prefix as 32 lowercase hex digits; a host has first === last.
 * `length` is the prefix length in that 128-bit space (an IPv4 /24 is 120); `text` is the canonical
 * spelling (`10.0.0.0/8`, `2001:db8::/32`, `10.1.2.3`).
 */
export interface AddressPrefix {
  family: 4 | 6;
  length: number;
  first: string;
  last: string;
  text: string;
}

interface NodeBase {
  /** 0-based offset (UTF-16 code units) of the node's first token in the text it was parsed from. */
  pos: number;
}

export interface AndNode extends NodeBase {
  type: 'and';
  children: FilterNode[];
}

export interface OrNode extends NodeBase {
  type: 'or';
  children: FilterNode[];
}

export interface NotNode extends NodeBase {
  type: 'not';
  child: FilterNode;
}

/** `any`: every flow. */
export interface AnyNode extends NodeBase {
  type: 'any';
}

/** `inet`/`ipv4` (4), `inet6`/`ipv6` (6): tests the ip_version column. */
export interface IpVersionNode extends NodeBase {
  type: 'ip_version';
  version: 4 | 6;
}

/** The field(s) lie in at least one of `prefixes` (a host is a one-address prefix). */
export interface AddressNode extends NodeBase {
  type: 'address';
  fields: AddressField[];
  match: FieldMatch;
  prefixes: AddressPrefix[];
}

/**
 * The field(s) compare to the value(s): `field <op> v`; with several values (only for `eq`, from
 * `in [ ... ]`) the field equals at least one of them.
 */
export interface NumberNode extends NodeBase {
  type: 'number';
  fields: NumericField[];
  match: FieldMatch;
  op: CompareOp;
  values: number[];
}

/** `flags XYZ`: a TCP flow (protocol 6) with all of the `mask` bits set in tcp_flags. */
export interface TcpFlagsNode extends NodeBase {
  type: 'tcp_flags';
  mask: number;
}

/** `channel NAME` / `profile NAME`, resolved at parse time to that filter's AST. */
export interface ReferenceNode extends NodeBase {
  type: 'ref';
  kind: ReferenceKind;
  name: string;
  /** The referenced filter; its `pos` values refer to that filter's own text. */
  filter: FilterNode;
}

export type FilterNode = AndNode | OrNode | NotNode | AnyNode | IpVersionNode | AddressNode | NumberNode | TcpFlagsNode | ReferenceNode;

/** The flow columns a filter reads (sorted), e.g. to pick a rollup table that can answer it. */
export function filterFields(node: FilterNode): FilterField[] {
  const out = new Set<FilterField>();
  const visit = (n: FilterNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        n.children.forEach(visit);
        return;
      case 'not':
        visit(n.child);
        return;
      case 'ref':
        visit(n.filter);
        return;
      case 'any':
        return;
      case 'ip_version':
        out.add('ip_version');
        return;
      case 'tcp_flags':
        out.add('protocol');
        out.add('tcp_flags');
        return;
      case 'address':
      case 'number':
        n.fields.forEach((f) => out.add(f));
        return;
    }
  };
  visit(node);
  return [...out].sort();
}
