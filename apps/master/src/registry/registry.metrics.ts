import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';
import { RegistryService } from './registry.service';

/** flowmesh_master_registry_nodes{status}: read from the registry at scrape time. */
@Injectable()
export class RegistryMetrics {
  constructor(metrics: MetricsService, registry: RegistryService) {
    new Gauge({
      name: 'flowmesh_master_registry_nodes',
      help: 'Registered nodes by status (up: heartbeat within nodeDownAfterMs)',
      labelNames: ['status'],
      registers: [metrics.registry],
      async collect() {
        try {
          const nodes = await registry.list();
          const up = nodes.filter((n) => n.status === 'up').length;
          this.set({ status: 'up' }, up);
          this.set({ status: 'down' }, nodes.length - up);
        } catch {
          this.reset();
        }
      },
    });
  }
}
