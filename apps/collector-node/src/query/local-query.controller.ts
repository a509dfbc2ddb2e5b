import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Post, ServiceUnavailableException, UsePipes, ValidationPipe } from '@nestjs/common';
import { flattenValidationErrors, Logger } from '@flowmesh/common';
import type { NodeInfo } from '@flowmesh/config-sync';
import { NODE_RUNTIME, NodeRuntime } from '../lifecycle/node-runtime';
import { AggregateRequestDto, AggregateResponseDto } from './local-query.dto';
import { LocalQueryService } from './local-query.service';

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

@Controller('internal/v1')
export class LocalQueryController {
  private readonly logger = new Logger('collector-node.query');

  constructor(
    private readonly query: LocalQueryService,
    @Inject(NODE_RUNTIME) private readonly runtime: NodeRuntime,
  ) {}

  @Post('aggregate')
  @HttpCode(200)
  @UsePipes(strictValidation)
  async aggregate(@Body() body: AggregateRequestDto): Promise<AggregateResponseDto> {
    if (body.to < body.from) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`to: must not be before from (got ${body.to})`], fields: ['to'] });
    }
    try {
      return await this.query.aggregate(body);
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0].slice(0, 300);
      this.logger.error('aggregate failed', { error: reason });
      throw new ServiceUnavailableException({ statusCode: 503, error: 'Service Unavailable', message: `storage: ${reason}` });
    }
  }

  @Get('info')
  info(): NodeInfo {
    return this.runtime.info();
  }
}
