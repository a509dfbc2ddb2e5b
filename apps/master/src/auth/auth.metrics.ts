import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';

@Injectable()
export class AuthMetrics {
  readonly refused: Counter<'reason'>;

  constructor(metrics: MetricsService) {
    this.refused = new Counter({
      name: 'flowmesh_master_auth_refused_total',
      help: 'API requests refused by authentication (missing_token, unknown_token) or authorisation (forbidden)',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
  }
}
