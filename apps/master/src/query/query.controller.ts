import { Body, Controller, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import { QueryMetricsInterceptor } from './query-metrics.interceptor';
import { QueryRequestDto } from './query-request.dto';
import { QueryResponseDto } from './query-response.dto';
import { QueryService } from './query.service';

@Controller('api/v1/query')
@UseInterceptors(QueryMetricsInterceptor)
export class QueryController {
  constructor(private readonly queries: QueryService) {}

  @Post()
  @HttpCode(200)
  query(@Body() body: QueryRequestDto): Promise<QueryResponseDto> {
    return this.queries.query(body);
  }
}
