import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, Matches, Min } from 'class-validator';
import { NODE_ID_PATTERN } from '@flowmesh/config-sync';
import { ORDER_METRICS, OrderMetric, QUERY_DIMENSIONS, QueryDimension } from './dimensions';
import { IsTimeSpec } from './time-spec';

/** Body of POST /api/v1/query. The upper bound of `top` is the configured query.maxTopN (checked by the service). */
export class QueryRequestDto {
  @IsTimeSpec()
  from: string = '-1h';

  @IsTimeSpec()
  to: string = 'now';

  @IsIn(QUERY_DIMENSIONS, { message: `by must be one of: ${QUERY_DIMENSIONS.join(', ')}` })
  by: QueryDimension = 'src_addr';

  @IsInt() @Min(1)
  top: number = 10;

  @IsIn(ORDER_METRICS, { message: `orderBy must be one of: ${ORDER_METRICS.join(', ')}` })
  orderBy: OrderMetric = 'bytes';

  /** Only these nodes (ids); all registered nodes when absent. */
  @IsOptional() @IsArray() @ArrayMaxSize(1000) @ArrayUnique()
  @Matches(NODE_ID_PATTERN, { each: true, message: 'nodes must hold node ids (a-z, 0-9, _ . -)' })
  nodes?: string[];
}
