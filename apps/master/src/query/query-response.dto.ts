import { OrderMetric, QueryDimension } from './dimensions';

export interface CountersDto {
  bytes: number;
  packets: number;
  flows: number;
}

export interface TopRowDto extends CountersDto {
  key: string;
}

export type NodeQueryStatus = 'ok' | 'down' | 'timeout' | 'error';

export interface NodeQueryResultDto {
  id: string;
  status: NodeQueryStatus;
  error?: string;
  elapsedMs: number;
  /** The tables it read (v2; a rollup a node lacks is read from its raw table). */
  tables?: string[];
}

/** Answer of POST /api/v1/query. `partial` is true whenever a selected node did not contribute (it is then listed with its status). */
export interface QueryResponseDto {
  from: string;
  to: string;
  by: QueryDimension;
  orderBy: OrderMetric;
  totals: CountersDto;
  top: TopRowDto[];
  other: CountersDto;
  nodes: NodeQueryResultDto[];
  partial: boolean;
  elapsedMs: number;
}
