import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { combineHealth, Component, Health, HealthStatus, Logger, startAll, stopAll } from '@flowmesh/common';
import { ControlPlaneService } from '../control-plane/control-plane.service';
import { JobsService } from '../jobs/jobs.service';
import { MergeEngine } from '../query/merge-engine.component';
import { RegistryService } from '../registry/registry.service';

/**
 * The master's components in one written-out order: started before the HTTP server listens,
 * stopped in reverse after it has closed.
 */
@Injectable()
export class LifecycleService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly components: Component[];
  private readonly log = new Logger('master.lifecycle');

  constructor(registry: RegistryService, engine: MergeEngine, controlPlane: ControlPlaneService, jobs: JobsService) {
    this.components = [registry, engine, controlPlane, jobs];
  }

  async onApplicationBootstrap(): Promise<void> {
    await startAll(this.components);
    this.log.info('components started', { order: this.components.map((c) => c.name) });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await stopAll(this.components);
    this.log.info('components stopped');
  }

  health(): Health & { components: Record<string, Health> } {
    return combineHealth(this.components);
  }

  status(): HealthStatus {
    return this.health().status;
  }
}
