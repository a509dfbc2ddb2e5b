import { BadRequestException, Injectable } from '@nestjs/common';
import { Logger } from '@flowmesh/common';
import { NodeView } from '@flowmesh/config-sync';
import { MasterConfig } from '../config/master.config';
import { RegistryService } from '../registry/registry.service';
import { AggregateRequest, fetchAggregate, NodeOutcome } from './aggregate-client';
import { MergeEngine } from './merge-engine.component';
import { QueryGate } from './query-gate';
import { QueryMetrics } from './query.metrics';
import { QueryRequestDto } from './query-request.dto';
import { NodeQueryResultDto, QueryResponseDto } from './query-response.dto';
import { parseTimeSpec } from './time-spec';

/**
 * A federated query: ask every selected up node for its partial aggregate (in parallel, each with the
 * deadline), merge the answers in ClickHouse, and say which nodes did not contribute.
 */
@Injectable()
export class QueryService {
  private readonly log = new Logger('master.query');

  constructor(
    private readonly config: MasterConfig,
    private readonly registry: RegistryService,
    private readonly engine: MergeEngine,
    private readonly metrics: QueryMetrics,
    private readonly gate: QueryGate,
  ) {}

  async query(req: QueryRequestDto, now = Date.now()): Promise<QueryResponseDto> {
    const q = this.config.query;
    if (req.top > q.maxTopN) throw new BadRequestException([`top: must not be greater than ${q.maxTopN} (got ${req.top})`]);
    const from = parseTimeSpec(req.from, now);
    const to = parseTimeSpec(req.to, now);
    if (from >= to) {
      throw new BadRequestException([`from: must be before to (from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()})`]);
    }
    const release = this.gate.enter();
    const started = performance.now();
    try {
      const registered = await this.registry.list(now);
      const outcomes = await this.askNodes(registered, req.nodes, { from, to, by: req.by }, q.timeoutMs);
      const answered = outcomes.filter((o) => o.status === 'ok' && o.result).map((o) => o.result!);
      const merged = await this.engine.merge(answered, req.orderBy, req.top, q.timeoutMs);
      const nodes: NodeQueryResultDto[] = outcomes.map((o) => ({ id: o.id, status: o.status, ...(o.error ? { error: o.error } : {}), elapsedMs: o.elapsedMs }));
      for (const o of outcomes) this.metrics.nodeResults.inc({ status: o.status });
      const partial = outcomes.some((o) => o.status !== 'ok');
      if (partial) this.log.warn('partial query result', { missing: nodes.filter((n) => n.status !== 'ok') });
      return {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        by: req.by,
        orderBy: req.orderBy,
        totals: merged.totals,
        top: merged.top,
        other: merged.other,
        nodes,
        partial,
        elapsedMs: Math.round(performance.now() - started),
      };
    } finally {
      release();
    }
  }

  private async askNodes(registered: NodeView[], subset: string[] | undefined, request: AggregateRequest, timeoutMs: number): Promise<NodeOutcome[]> {
    const byId = new Map(registered.map((n) => [n.id, n]));
    const ids = subset ?? registered.map((n) => n.id);
    return Promise.all(
      ids.map((id): Promise<NodeOutcome> | NodeOutcome => {
        const node = byId.get(id);
        if (!node) return { id, status: 'error', error: 'node is not registered', elapsedMs: 0 };
        if (node.status !== 'up') {
          const last = node.lastHeartbeat ? `last heartbeat ${node.lastHeartbeat}` : 'no heartbeat yet';
          return { id, status: 'down', error: `node is down (${last})`, elapsedMs: 0 };
        }
        return fetchAggregate(id, node.apiUrl, request, timeoutMs);
      }),
    );
  }
}
