import {
  BadRequestException, Body, Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Post, ServiceUnavailableException, UsePipes, ValidationPipe,
} from '@nestjs/common';
import { flattenValidationErrors, Logger } from '@flowmesh/common';
import type { NodeInfo } from '@flowmesh/config-sync';
import { NODE_RUNTIME, NodeRuntime } from '../lifecycle/node-runtime';
import { FLOW_STORE, FlowStore } from '../storage/storage';
import { AggregateRequestDto, AggregateResponseDto } from './local-query.dto';
import { LocalQueryService } from './local-query.service';
import { PartialQueryDto, PartialQueryResponse } from './partial-query.dto';
import { PartialQueryError, PartialQueryService } from './partial-query.service';
import { NODE_ID } from './tokens';

/** 400 with one `field: problem` line per bad field, and the field names on their own. */
export const strictValidation = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => {
    const message = flattenValidationErrors(errors);
    return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, fields: [...new Set(message.map((m) => m.split(':')[0]))] });
  },
});

@Controller('internal')
export class LocalQueryController {
  private readonly logger = new Logger('collector-node.query');
  /** Built here from the injected store so the node's module wiring stays as it is. */
  private readonly partial: PartialQueryService;

  constructor(
    private readonly query: LocalQueryService,
    @Inject(NODE_RUNTIME) private readonly runtime: NodeRuntime,
    @Inject(FLOW_STORE) store: FlowStore,
    @Inject(NODE_ID) nodeId: string,
  ) {
    this.partial = new PartialQueryService(store, nodeId);
  }

  @Post('v1/aggregate')
  @HttpCode(200)
  @UsePipes(strictValidation)
  async aggregate(@Body() body: AggregateRequestDto): Promise<AggregateResponseDto> {
    if (body.to < body.from) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`to: must not be before from (got ${body.to})`], fields: ['to'] });
    }
    try {
      return await this.query.aggregate(body);
    } catch (e) {
      throw this.storageError('aggregate', e);
    }
  }

  /** The v2 partial query (aggregates, series, flow pages) the master's federated query API fans out. */
  @Post('v2/query')
  @HttpCode(200)
  @UsePipes(strictValidation)
  async partialQuery(@Body() body: PartialQueryDto): Promise<PartialQueryResponse> {
    if (body.to < body.from) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`to: must not be before from (got ${body.to})`], fields: ['to'] });
    }
    if (this.partial.busy) {
      throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: 'node is running its maximum of queries' }, HttpStatus.TOO_MANY_REQUESTS);
    }
    try {
      return await this.partial.run(body);
    } catch (e) {
      if (e instanceof PartialQueryError) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [e.message] });
      throw this.storageError('partial query', e);
    }
  }

  @Get('v1/info')
  info(): NodeInfo {
    return this.runtime.info();
  }

  private storageError(what: string, e: unknown): HttpException {
    const reason = (e as Error).message.split('\n')[0].slice(0, 300);
    this.logger.error(`${what} failed`, { error: reason });
    return new ServiceUnavailableException({ statusCode: 503, error: 'Service Unavailable', message: `storage: ${reason}` });
  }
}
