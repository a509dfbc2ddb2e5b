import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';
import { NodeQueryStatus } from './query-response.dto';

/** Outcome label of one POST /api/v1/query. */
export type QueryRequestStatus = 'ok' | 'partial' | 'invalid' | 'overloaded' | 'unavailable' | 'error';

@Injectable()
export class QueryMetrics {
  readonly requests: Counter<'status'>;
  readonly duration: Histogram;
  readonly nodeResults: Counter<'status'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'flowmesh_master_query_requests_total',
      help: 'Federated queries by outcome (ok, partial, invalid, overloaded, unavailable, error)',
      labelNames: ['status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'flowmesh_master_query_duration_seconds',
      help: 'Federated query latency, request to response',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.nodeResults = new Counter({
      name: 'flowmesh_master_query_node_results_total',
      help: 'Per-node answers to federated queries by status (ok, down, timeout, error)',
      labelNames: ['status'],
      registers,
    });
    for (const s of ['ok', 'partial', 'invalid', 'overloaded', 'unavailable', 'error'] as QueryRequestStatus[]) this.requests.inc({ status: s }, 0);
    for (const s of ['ok', 'down', 'timeout', 'error'] as NodeQueryStatus[]) this.nodeResults.inc({ status: s }, 0);
  }
}
