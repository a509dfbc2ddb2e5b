import { Module } from '@nestjs/common';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

@Module({
  imports: [LifecycleModule],
  controllers: [HealthController, MetricsController],
})
export class ObservabilityModule {}
