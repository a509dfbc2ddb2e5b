// Flow query language core: nfdump-style filters -> typed AST -> ClickHouse SQL (18.16 and 26.x) or a
// TypeScript predicate. Pure: no framework, no I/O.
export * from './lib/filter-ast';
export { FilterSyntaxError } from './lib/filter-syntax-error';
export { parseFilter, FILTER_LIMITS, PROTOCOL_NUMBERS, TCP_FLAG_BITS } from './lib/filter-parser';
export type { ParseFilterOptions, FilterResolver } from './lib/filter-parser';
export { compileFilterToSql } from './lib/filter-sql';
export type { CompileSqlOptions } from './lib/filter-sql';
export { compileFilterToPredicate } from './lib/filter-predicate';
export type { FlowRecordLike, FlowPredicate } from './lib/filter-predicate';
export { formatFilter } from './lib/filter-format';
export { parseAddress, formatAddress, parseNetwork, parseMac, formatMac, isV4Mapped } from './lib/address';
export type { ParsedAddress } from './lib/address';
export * from './lib/query-model';
