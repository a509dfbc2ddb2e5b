import { Body, Controller, HttpCode, Post, Res, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { FederatedQueryService, QueryV2Response } from './federated-query.service';
import { ExportRequestDto, MAX_PAGE_ROWS, QueryV2RequestDto } from './query-v2.dto';
import { QueryMetricsInterceptor } from './query-metrics.interceptor';
import { ExportSink, exportRows } from './query-export';

@ApiTags('query')
@Controller('api/v2/query')
@UseInterceptors(QueryMetricsInterceptor)
export class QueryV2Controller {
  constructor(private readonly queries: FederatedQueryService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Federated query over every node: top-N with other, time series, or a flow listing page' })
  @ApiOkResponse({ description: 'merged answer; `partial: true` names the nodes that did not contribute in `nodes`' })
  @ApiBadRequestResponse({ description: 'invalid body; a filter syntax error carries `filter: {position, expected, found, message}`' })
  @ApiTooManyRequestsResponse({ description: 'query.maxConcurrency reached' })
  query(@Body() body: QueryV2RequestDto): Promise<QueryV2Response> {
    return this.queries.query(body);
  }

  /** The same query as CSV or NDJSON, streamed; a flow listing is paged through to the end (or maxRows). */
  @Post('export')
  @HttpCode(200)
  @ApiOperation({ summary: 'Export a query as CSV or NDJSON (streamed)' })
  async export(@Body() body: ExportRequestDto, @Res() res: ExportSink): Promise<void> {
    const maxRows = Math.min(body.maxRows ?? Number.MAX_SAFE_INTEGER, this.queries.maxExportRows);
    const first = await this.queries.query(body.mode === 'flows' ? { ...body, limit: Math.min(MAX_PAGE_ROWS, maxRows) } : body);
    await exportRows(first, { ...body, maxRows }, res, (cursor, limit) => this.queries.query({ ...body, cursor, limit }));
  }
}
