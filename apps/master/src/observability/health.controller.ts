import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { Health, softwareVersion } from '@flowmesh/common';
import { LifecycleService } from '../lifecycle/lifecycle.service';

@Controller()
export class HealthController {
  constructor(private readonly lifecycle: LifecycleService) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  healthz(): { status: 'ok'; version: string } {
    return { status: 'ok', version: softwareVersion() };
  }

  /** Readiness: every component is usable (Redis reachable, merge engine open); 503 names what is not. */
  @Get('readyz')
  readyz(): Health & { components: Record<string, Health> } {
    const health = this.lifecycle.health();
    if (health.status === 'error') throw new ServiceUnavailableException(health);
    return health;
  }
}
