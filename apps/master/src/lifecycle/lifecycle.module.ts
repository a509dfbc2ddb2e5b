import { Module } from '@nestjs/common';
import { QueryModule } from '../query/query.module';
import { RegistryModule } from '../registry/registry.module';
import { LifecycleService } from './lifecycle.service';

@Module({
  imports: [RegistryModule, QueryModule],
  providers: [LifecycleService],
  exports: [LifecycleService],
})
export class LifecycleModule {}
