import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { MasterConfig } from './config/master.config';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './observability/metrics.module';
import { ObservabilityModule } from './observability/observability.module';
import { QueryModule } from './query/query.module';
import { RegistryModule } from './registry/registry.module';

@Module({})
export class AppModule {
  static forRoot(config: MasterConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), MetricsModule, RegistryModule, QueryModule, LifecycleModule, ObservabilityModule],
    };
  }
}
