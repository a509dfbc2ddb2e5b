import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { ConfigStatusController } from './config-status.controller';
import { ConfigController } from './config.controller';
import { ControlPlaneService } from './control-plane.service';

@Module({
  imports: [RegistryModule],
  controllers: [ConfigStatusController, ConfigController],
  providers: [ControlPlaneService],
  exports: [ControlPlaneService],
})
export class ControlPlaneModule {}
