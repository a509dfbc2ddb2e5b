import { Module } from '@nestjs/common';
import { RegistryController } from './registry.controller';
import { RegistryMetrics } from './registry.metrics';
import { RegistryService } from './registry.service';

@Module({
  controllers: [RegistryController],
  providers: [RegistryService, RegistryMetrics],
  exports: [RegistryService],
})
export class RegistryModule {}
