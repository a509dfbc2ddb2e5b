import { DynamicModule, Module } from '@nestjs/common';
import { NODE_RUNTIME, NodeRuntime } from './lifecycle/node-runtime';
import { HealthController } from './observability/health.controller';
import { MetricsController } from './observability/metrics.controller';
import { LocalQueryController } from './query/local-query.controller';
import { LocalQueryService } from './query/local-query.service';
import { NODE_ID } from './query/tokens';
import { FLOW_STORE, FlowStore } from './storage/storage';

export interface AppDeps {
  nodeId: string;
  runtime: NodeRuntime;
  store: FlowStore;
}

/** The node's HTTP surface. Components are built by the lifecycle (plain classes) and handed in as values. */
@Module({})
export class AppModule {
  static forRoot(deps: AppDeps): DynamicModule {
    return {
      module: AppModule,
      controllers: [LocalQueryController, HealthController, MetricsController],
      providers: [
        LocalQueryService,
        { provide: NODE_ID, useValue: deps.nodeId },
        { provide: NODE_RUNTIME, useValue: deps.runtime },
        { provide: FLOW_STORE, useValue: deps.store },
      ],
    };
  }
}
