import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { DISTINCT_FIELDS, QUERY_DIMENSIONS, QUERY_TABLES, SORT_FIELDS } from '@flowmesh/flow-query';
import type { DistinctField, QueryDimension, QueryTable, SortField } from '@flowmesh/flow-query';

const MAX_EPOCH_MS = 8.64e15;
const MAX_EPOCH_S = 4_294_967_296;

export class SegmentDto {
  @IsIn(QUERY_TABLES)
  table: QueryTable;
  @IsInt() @Min(0) @Max(MAX_EPOCH_S)
  from: number;
  @IsInt() @Min(0) @Max(MAX_EPOCH_S)
  to: number;
}

export class SortDto {
  @IsIn(SORT_FIELDS)
  field: SortField;
  @IsBoolean()
  desc: boolean;
}

export class AfterDto {
  /** Checked value by value against the listing order by the SQL builder (hex or integer). */
  @IsArray() @ArrayMaxSize(64)
  values: Array<number | string>;
  @IsBoolean()
  inclusive: boolean;
  @IsInt() @Min(0) @Max(1_000_000)
  skip: number;
}

export class LimitsDto {
  @IsInt() @Min(100) @Max(600_000)
  timeoutMs: number;
  @IsInt() @Min(1) @Max(50_000_000)
  maxRows: number;
  @IsInt() @Min(16 * 1024 * 1024) @Max(1024 ** 4)
  maxMemoryBytes: number;
}

/** Body of POST /internal/v2/query (the master's planner builds it; see NodeQueryRequest in @flowmesh/flow-query). */
export class PartialQueryDto {
  @IsIn(['aggregate', 'flows'])
  mode: 'aggregate' | 'flows';
  @IsInt() @Min(0) @Max(MAX_EPOCH_MS)
  from: number;
  @IsInt() @Min(0) @Max(MAX_EPOCH_MS)
  to: number;
  @IsString() @MaxLength(65_536)
  filter: string;
  @IsArray() @ArrayMaxSize(8) @ArrayUnique() @IsIn(QUERY_DIMENSIONS, { each: true })
  groupBy: QueryDimension[];
  @IsOptional() @IsInt() @Min(1) @Max(31 * 86_400)
  interval?: number;
  @IsArray() @ArrayMaxSize(8) @ArrayUnique() @IsIn(DISTINCT_FIELDS, { each: true })
  distinct: DistinctField[];
  @IsArray() @ArrayMaxSize(8) @ValidateNested({ each: true }) @Type(() => SegmentDto)
  segments: SegmentDto[];
  @IsOptional() @ValidateNested() @Type(() => SortDto)
  sort?: SortDto;
  @IsOptional() @IsInt() @Min(1) @Max(100_000)
  limit?: number;
  @IsOptional() @ValidateNested() @Type(() => AfterDto)
  after?: AfterDto;
  @ValidateNested() @Type(() => LimitsDto)
  limits: LimitsDto;
}

export interface PartialQueryResponse {
  node: string;
  columns: string[];
  rows: Array<Array<number | string>>;
  /** Tables read (a rollup the store lacks is answered from the raw table). */
  tables: QueryTable[];
  elapsedMs: number;
}
