import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min,
} from 'class-validator';
import { NODE_ID_PATTERN } from '@flowmesh/config-sync';
import { QUERY_DIMENSIONS, QUERY_INTERVALS, QUERY_METRICS, SORT_FIELDS } from '@flowmesh/flow-query';
import type { QueryDimension, QueryMetric, SortField } from '@flowmesh/flow-query';
import { IsTimeSpec, TIME_SPEC_HINT } from './time-spec';

export const QUERY_MODES = ['aggregate', 'series', 'flows'] as const;
export type QueryMode = (typeof QUERY_MODES)[number];
export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
const INTERVAL_NAMES = Object.keys(QUERY_INTERVALS);
export const MAX_PAGE_ROWS = 10_000;


/** Body of POST /api/v2/query (and /api/v2/query/export). */
export class QueryV2RequestDto {
  @ApiProperty({ description: TIME_SPEC_HINT, default: '-1h', example: '-1h' })
  @IsTimeSpec()
  from: string = '-1h';

  @ApiProperty({ description: TIME_SPEC_HINT, default: 'now' })
  @IsTimeSpec()
  to: string = 'now';

  @ApiPropertyOptional({ description: "nfdump filter, e.g. 'src net 10.0.0.0/8 and dst port 443'; `channel NAME`/`profile NAME` resolve through the master's resolver", default: '' })
  @IsString() @MaxLength(16_384)
  filter: string = '';

  @ApiProperty({ enum: QUERY_MODES, default: 'aggregate', description: 'aggregate: top-N/totals; series: buckets of `interval`; flows: raw flow listing' })
  @IsIn(QUERY_MODES, { message: `mode must be one of: ${QUERY_MODES.join(', ')}` })
  mode: QueryMode = 'aggregate';

  @ApiProperty({ enum: QUERY_DIMENSIONS, isArray: true, default: [] })
  @IsArray() @ArrayMaxSize(4) @ArrayUnique()
  @IsIn(QUERY_DIMENSIONS, { each: true, message: `groupBy must hold dimensions: ${QUERY_DIMENSIONS.join(', ')}` })
  groupBy: QueryDimension[] = [];

  @ApiProperty({ enum: QUERY_METRICS, isArray: true, default: ['bytes', 'packets', 'flows'], description: 'bytes/packets are sampling-scaled; bps/pps per second of the range (series: of the bucket); distinct_<field> exact distinct counts' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(16) @ArrayUnique()
  @IsIn(QUERY_METRICS, { each: true, message: `metrics must hold: ${QUERY_METRICS.join(', ')}` })
  metrics: QueryMetric[] = ['bytes', 'packets', 'flows'];

  @ApiProperty({ enum: QUERY_METRICS, default: 'bytes' })
  @IsIn(QUERY_METRICS, { message: `orderBy must be one of: ${QUERY_METRICS.join(', ')}` })
  orderBy: QueryMetric = 'bytes';

  @ApiProperty({ default: 10, description: 'groups returned (the rest is the `other` row); upper bound query.maxTopN' })
  @IsInt() @Min(1)
  top: number = 10;

  @ApiPropertyOptional({ enum: INTERVAL_NAMES, default: '5m' })
  @IsIn(INTERVAL_NAMES, { message: `interval must be one of: ${INTERVAL_NAMES.join(', ')}` })
  interval: string = '5m';

  @ApiProperty({ enum: SORT_FIELDS, default: 'time_received' })
  @IsIn(SORT_FIELDS, { message: `sort must be one of: ${SORT_FIELDS.join(', ')}` })
  sort: SortField = 'time_received';

  @ApiProperty({ enum: ['asc', 'desc'], default: 'desc' })
  @IsIn(['asc', 'desc'])
  order: 'asc' | 'desc' = 'desc';

  @ApiProperty({ default: 100, maximum: MAX_PAGE_ROWS })
  @IsInt() @Min(1) @Max(MAX_PAGE_ROWS)
  limit: number = 100;

  @ApiPropertyOptional({ description: "opaque `nextCursor` of the previous page (flows)" })
  @IsOptional() @IsString() @MaxLength(8192)
  cursor?: string;

  @ApiPropertyOptional({ type: [String], description: 'only these node ids (default: every registered node)' })
  @IsOptional() @IsArray() @ArrayMaxSize(1000) @ArrayUnique()
  @Matches(NODE_ID_PATTERN, { each: true, message: 'nodes must hold node ids (a-z, 0-9, _ . -)' })
  nodes?: string[];
}

export class ExportRequestDto extends QueryV2RequestDto {
  @ApiProperty({ enum: EXPORT_FORMATS, default: 'ndjson' })
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat = 'ndjson';

  @ApiPropertyOptional({ description: 'flows: stop after this many rows (bounded by query.maxExportRows)' })
  @IsOptional() @IsInt() @Min(1)
  maxRows?: number;
}
