import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { MergeEngine } from './merge-engine.component';
import { QueryMetricsInterceptor } from './query-metrics.interceptor';
import { QueryController } from './query.controller';
import { QueryMetrics } from './query.metrics';
import { QueryService } from './query.service';
import { QueryGate } from './query-gate';
import { FederatedQueryService } from './federated-query.service';
import { QueryV2Controller } from './query-v2.controller';

@Module({
  imports: [RegistryModule],
  controllers: [QueryController, QueryV2Controller],
  providers: [QueryService, FederatedQueryService, QueryGate, MergeEngine, QueryMetrics, QueryMetricsInterceptor],
  exports: [MergeEngine],
})
export class QueryModule {}
