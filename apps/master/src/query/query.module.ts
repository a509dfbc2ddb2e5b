import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { MergeEngine } from './merge-engine.component';
import { QueryMetricsInterceptor } from './query-metrics.interceptor';
import { QueryController } from './query.controller';
import { QueryMetrics } from './query.metrics';
import { QueryService } from './query.service';

@Module({
  imports: [RegistryModule],
  controllers: [QueryController],
  providers: [QueryService, MergeEngine, QueryMetrics, QueryMetricsInterceptor],
  exports: [MergeEngine],
})
export class QueryModule {}
