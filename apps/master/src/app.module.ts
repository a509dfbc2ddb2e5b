import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { ControlPlaneModule } from './control-plane/control-plane.module';
import { JobsModule } from './jobs/jobs.module';
import { MasterConfig } from './config/master.config';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './observability/metrics.module';
import { ObservabilityModule } from './observability/observability.module';
import { QueryModule } from './query/query.module';
import { RegistryModule } from './registry/registry.module';
import { UpgradesModule } from './upgrades/upgrades.module';

@Module({})
export class AppModule {
  static forRoot(config: MasterConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config), MetricsModule, AuthModule, RegistryModule, QueryModule, LifecycleModule, ObservabilityModule,
        ControlPlaneModule, JobsModule, UpgradesModule,
      ],
    };
  }
}
