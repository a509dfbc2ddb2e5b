import { Module } from '@nestjs/common';
import { ControlPlaneModule } from '../control-plane/control-plane.module';
import { JobsModule } from '../jobs/jobs.module';
import { RegistryModule } from '../registry/registry.module';
import { PackageStore } from './package-store.service';
import { RolloutService } from './rollout.service';
import { UpgradesController } from './upgrades.controller';

@Module({
  imports: [ControlPlaneModule, JobsModule, RegistryModule],
  controllers: [UpgradesController],
  providers: [PackageStore, RolloutService],
})
export class UpgradesModule {}
