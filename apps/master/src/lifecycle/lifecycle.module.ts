import { Module } from '@nestjs/common';
import { ControlPlaneModule } from '../control-plane/control-plane.module';
import { JobsModule } from '../jobs/jobs.module';
import { QueryModule } from '../query/query.module';
import { RegistryModule } from '../registry/registry.module';
import { LifecycleService } from './lifecycle.service';

@Module({
  imports: [RegistryModule, QueryModule, ControlPlaneModule, JobsModule],
  providers: [LifecycleService],
  exports: [LifecycleService],
})
export class LifecycleModule {}
