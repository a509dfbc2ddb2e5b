import { BadRequestException, Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import {
  cellKind, distinctFieldOf, DISTINCT_FIELDS, DistinctField, expandReferences, FilterNode, FilterSyntaxError, formatAddress, formatFilter,
  listingColumns, NodeQueryRequest, parseFilter, partialColumns, planQuery, plannerFilterFields, QUERY_INTERVALS, QueryPlan, QueryTable,
  ListingAfter,
} from '@flowmesh/flow-query';
import { Logger } from '@flowmesh/common';
import { NodeView } from '@flowmesh/config-sync';
import { MasterConfig } from '../config/master.config';
import { RegistryService } from '../registry/registry.service';
import { ClusterQuerySource } from './cluster-source';
import { MergeEngine } from './merge-engine.component';
import { QueryGate } from './query-gate';
import { buildAggregateMergeSql, buildListingMergeSql, buildSeriesMergeSql, mergeSettings } from './merge-v2-sql';
import { fetchPartial, PartialOutcome } from './partial-client';
import { QueryV2RequestDto } from './query-v2.dto';
import { NodeQueryResultDto } from './query-response.dto';
import { QueryMetrics } from './query.metrics';
import { parseTimeSpec } from './time-spec';

/** Resolves `channel NAME` / `profile NAME` to filter text (the control plane provides one; none by default). */
export type FilterResolverHook = (kind: 'channel' | 'profile', name: string) => string | undefined;
export const FILTER_RESOLVER = Symbol('FILTER_RESOLVER');

const ROLLUPS: readonly QueryTable[] = ['flows_1m', 'flows_1h', 'flows_src_1h', 'flows_dst_1h'];

export type Metrics = Record<string, number>;
export interface GroupRow {
  key: Record<string, string | number>;
  metrics: Metrics;
}
export interface SeriesPoint {
  t: string;
  /** null: the `other` series. */
  key: Record<string, string | number> | null;
  metrics: Metrics;
}

export interface QueryV2Response {
  mode: 'aggregate' | 'series' | 'flows';
  from: string;
  to: string;
  filter: string;
  plan: QueryPlan;
  groupBy: string[];
  metrics: string[];
  orderBy: string;
  rows?: GroupRow[];
  other?: Metrics | null;
  totals?: Metrics;
  interval?: string;
  series?: SeriesPoint[];
  flows?: Array<Record<string, string | number>>;
  nextCursor?: string | null;
  nodes: NodeQueryResultDto[];
  partial: boolean;
  elapsedMs: number;
}

interface Cursor {
  /** Absolute range of the first page (relative times would move between pages). */
  f: number;
  t: number;
  /** Filter text and sort, so a cursor cannot continue a different query. */
  q: string;
  v: Array<number | string>;
  n: string;
  d: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(text: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString()) as Cursor;
    const ok =
      Number.isSafeInteger(c.f) && Number.isSafeInteger(c.t) && typeof c.q === 'string' && Array.isArray(c.v) && c.v.length === listingColumns().length &&
      c.v.every((x) => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) || (typeof x === 'string' && /^[0-9A-F]{32}$/.test(x))) &&
      typeof c.n === 'string' && c.n.length <= 128 && Number.isSafeInteger(c.d) && c.d >= 0;
    return ok ? c : undefined;
  } catch {
    return undefined;
  }
}

function displayValue(column: string, v: unknown): string | number {
  if (cellKind(column) === 'addr' && typeof v === 'string' && /^[0-9A-F]{32}$/i.test(v)) return formatAddress(Buffer.from(v, 'hex'));
  return v as string | number;
}

/**
 * Federated queries (v2): plan (coarsest rollup that can answer), fan out one partial query per node with
 * the deadline, merge the partials in chDB (sums, set unions, ranking, paging: never TypeScript arithmetic),
 * and name every node that did not contribute.
 */
@Injectable()
export class FederatedQueryService implements OnModuleDestroy {
  private readonly log = new Logger('master.query.v2');
  /** Set (query.cluster.url): answers come from a ClickHouse cluster's Distributed tables, not the nodes. */
  private readonly cluster: ClusterQuerySource;

  constructor(
    private readonly config: MasterConfig,
    private readonly registry: RegistryService,
    private readonly engine: MergeEngine,
    private readonly metrics: QueryMetrics,
    private readonly gate: QueryGate,
    @Optional() @Inject(FILTER_RESOLVER) private readonly resolver?: FilterResolverHook,
  ) {
    this.cluster = new ClusterQuerySource(config.query.cluster);
  }

  async onModuleDestroy(): Promise<void> {
    await this.cluster.close();
  }

  private limits() {
    const q = this.config.query;
    return { timeoutMs: q.timeoutMs, maxRows: q.maxRows, maxMemoryBytes: q.maxMemoryBytes, maxExportRows: q.maxExportRows };
  }

  /** Most rows one export may stream (query.maxExportRows). */
  get maxExportRows(): number {
    return this.limits().maxExportRows;
  }

  /** Parses the filter (400 with position/expected on error) and returns it with references expanded. */
  parse(text: string): FilterNode {
    try {
      return expandReferences(parseFilter(text, { resolve: (kind, name) => this.resolver?.(kind, name) }));
    } catch (e) {
      if (e instanceof FilterSyntaxError) {
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`filter: ${e.message}`], filter: e.toJSON() });
      }
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`filter: ${(e as Error).message}`] });
    }
  }

  async query(req: QueryV2RequestDto, now = Date.now()): Promise<QueryV2Response> {
    const q = this.config.query;
    if (req.top > q.maxTopN) throw new BadRequestException([`top: must not be greater than ${q.maxTopN} (got ${req.top})`]);
    const filter = this.parse(req.filter);
    const filterText = formatFilter(filter);
    let from = parseTimeSpec(req.from, now);
    let to = parseTimeSpec(req.to, now);
    let cursor: Cursor | undefined;
    const cursorScope = `${filterText}|${req.sort}|${req.order}`;
    if (req.cursor !== undefined) {
      if (req.mode !== 'flows') throw new BadRequestException(['cursor: only flow listings page']);
      cursor = decodeCursor(req.cursor);
      if (!cursor || cursor.q !== cursorScope) throw new BadRequestException(['cursor: not a cursor of this query (filter, sort and order must stay the same)']);
      from = cursor.f;
      to = cursor.t;
    }
    if (this.cluster.enabled && req.nodes) {
      throw new BadRequestException([`nodes: this master answers from the ClickHouse cluster ${this.config.query.cluster.name} (query.cluster.url), whose shards cannot be chosen`]);
    }
    if (from >= to) throw new BadRequestException([`from: must be before to (from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()})`]);
    const distinct = [...new Set(req.metrics.concat(req.orderBy).map(distinctFieldOf).filter((d): d is DistinctField => !!d))].filter((d) => DISTINCT_FIELDS.includes(d));
    const intervalS = req.mode === 'series' ? QUERY_INTERVALS[req.interval] : undefined;
    if (intervalS !== undefined && (to - from) / 1000 / intervalS > 10_000) {
      throw new BadRequestException([`interval: ${req.interval} makes more than 10000 buckets over this range`]);
    }
    const plan: QueryPlan =
      req.mode === 'flows'
        ? { segments: [{ table: 'flows', from: Math.ceil(from / 1000), to: Math.ceil(to / 1000) }], reason: 'raw: a flow listing reads flows' }
        : planQuery({ fromMs: from, toMs: to, groupBy: req.groupBy, filterFields: plannerFilterFields(filter), distinct, intervalS, rollups: ROLLUPS });

    const release = this.gate.enter();
    const started = performance.now();
    try {
      const lim = this.limits();
      const base: NodeQueryRequest = {
        mode: req.mode === 'flows' ? 'flows' : 'aggregate',
        from,
        to,
        filter: filterText,
        groupBy: req.mode === 'flows' ? [] : req.groupBy,
        ...(intervalS ? { interval: intervalS } : {}),
        distinct: req.mode === 'flows' ? [] : distinct,
        segments: plan.segments,
        ...(req.mode === 'flows' ? { sort: { field: req.sort, desc: req.order === 'desc' }, limit: req.limit } : {}),
        limits: { timeoutMs: lim.timeoutMs, maxRows: lim.maxRows, maxMemoryBytes: lim.maxMemoryBytes },
      };
      const ask = (id: string) => (cursor ? { ...base, after: afterFor(cursor, id) } : base);
      const outcomes = this.cluster.enabled
        ? await this.cluster.ask(ask(this.cluster.id), filter, lim.timeoutMs)
        : await this.askNodes(await this.registry.list(now), req.nodes, ask, lim.timeoutMs);
      for (const o of outcomes) this.metrics.nodeResults.inc({ status: o.status });
      const nodes: NodeQueryResultDto[] = outcomes.map((o) => ({
        id: o.id,
        status: o.status,
        ...(o.error ? { error: o.error } : {}),
        elapsedMs: o.elapsedMs,
        ...(o.result?.tables ? { tables: o.result.tables } : {}),
      }));
      const partial = outcomes.some((o) => o.status !== 'ok');
      if (partial) this.log.warn('partial query result', { missing: nodes.filter((n) => n.status !== 'ok') });
      const answered = outcomes.filter((o) => o.status === 'ok' && o.result);
      const head = {
        mode: req.mode,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        filter: filterText,
        plan,
        groupBy: req.mode === 'flows' ? [] : req.groupBy,
        metrics: req.metrics,
        orderBy: req.orderBy,
      };
      const settings = mergeSettings(lim.timeoutMs / 1000, lim.maxMemoryBytes);
      let body: Partial<QueryV2Response>;
      if (req.mode === 'flows') {
        body = await this.mergeListing(answered, req, cursor, cursorScope, from, to, settings, lim.timeoutMs);
      } else {
        const columns = partialColumns(base);
        const lines: string[] = [];
        for (const o of answered) for (const r of o.result!.rows) lines.push(JSON.stringify(r));
        const input = { columns, groupBy: req.groupBy, distinct, metrics: req.metrics, orderBy: req.orderBy, top: req.top, seconds: Math.max(1, (to - from) / 1000), settings };
        if (req.mode === 'series') {
          const rows = await this.engine.mergeLines(lines, (file) => buildSeriesMergeSql({ ...input, file, interval: intervalS! }), lim.timeoutMs);
          body = { interval: req.interval, series: fillSeries(rows, req, from, to, intervalS!) };
        } else {
          const rows = await this.engine.mergeLines(lines, (file) => buildAggregateMergeSql({ ...input, file }), lim.timeoutMs);
          const pick = (r: Record<string, unknown>) => Object.fromEntries(req.metrics.map((m) => [m, Number(r[m] ?? 0)]));
          const tot = rows.find((r) => r.r === 0);
          body = {
            rows: rows.filter((r) => Number(r.r) > 1).map((r) => ({ key: Object.fromEntries(req.groupBy.map((g) => [g, displayValue(g, r[`g_${g}`])])), metrics: pick(r) })),
            other: req.groupBy.length ? pick(rows.find((r) => r.r === 1) ?? {}) : null,
            totals: pick(tot ?? {}),
          };
        }
      }
      return { ...head, ...body, nodes, partial, elapsedMs: Math.round(performance.now() - started) } as QueryV2Response;
    } finally {
      release();
    }
  }

  /** One listing page from the nodes' pages (public for the exactness spec). */
  async mergeListing(
    answered: PartialOutcome[], req: QueryV2RequestDto, cursor: Cursor | undefined, scope: string, from: number, to: number, settings: string, timeoutMs: number,
  ): Promise<Partial<QueryV2Response>> {
    const lines: string[] = [];
    for (const o of answered) for (const r of o.result!.rows) lines.push(JSON.stringify([o.id, ...r]));
    const rows = await this.engine.mergeLines(lines, (file) => buildListingMergeSql({ file, sort: { field: req.sort, desc: req.order === 'desc' }, limit: req.limit, settings }), timeoutMs);
    const cols = listingColumns();
    const keyOf = (r: Record<string, unknown>) => cols.map((c) => r[c === 's_' ? 's_' : `o_${c}`] as number | string);
    const same = (a: Array<number | string>, b: Array<number | string>) => a.every((x, i) => x === b[i]);
    let nextCursor: string | null = null;
    if (rows.length === req.limit) {
      const last = rows[rows.length - 1];
      const lastKey = keyOf(last);
      let d = 0;
      let i = rows.length - 1;
      while (i >= 0 && rows[i].node === last.node && same(keyOf(rows[i]), lastKey)) {
        d++;
        i--;
      }
      if (i < 0 && cursor && cursor.n === last.node && same(cursor.v, lastKey)) d += cursor.d;
      nextCursor = encodeCursor({ f: from, t: to, q: scope, v: lastKey, n: String(last.node), d });
    }
    const flows = rows.map((r) => {
      const o: Record<string, string | number> = { node: String(r.node) };
      for (const c of cols.slice(1)) {
        const v = r[`o_${c}`];
        o[c] = c === 'time_received' || c === 'flow_start' || c === 'flow_end' ? new Date(Number(v) * 1000).toISOString() : displayValue(c, v);
      }
      return o;
    });
    return { flows, nextCursor };
  }

  private async askNodes(registered: NodeView[], subset: string[] | undefined, request: (id: string) => NodeQueryRequest, timeoutMs: number): Promise<PartialOutcome[]> {
    const byId = new Map(registered.map((n) => [n.id, n]));
    const ids = subset ?? registered.map((n) => n.id);
    return Promise.all(
      ids.map((id): Promise<PartialOutcome> | PartialOutcome => {
        const node = byId.get(id);
        if (!node) return { id, status: 'error', error: 'node is not registered', elapsedMs: 0 };
        if (node.status !== 'up') {
          const last = node.lastHeartbeat ? `last heartbeat ${node.lastHeartbeat}` : 'no heartbeat yet';
          return { id, status: 'down', error: `node is down (${last})`, elapsedMs: 0 };
        }
        return fetchPartial(id, node.apiUrl, request(id), timeoutMs);
      }),
    );
  }
}

/** Where node `id` continues after the cursor: the order is (listing key, node id). */
export function afterFor(c: Cursor, id: string): ListingAfter {
  if (id < c.n) return { values: c.v, inclusive: false, skip: 0 };
  if (id === c.n) return { values: c.v, inclusive: true, skip: c.d };
  return { values: c.v, inclusive: true, skip: 0 };
}

/** Series points in bucket order, every bucket of the range present for every series (missing = zeros). */
function fillSeries(rows: Array<Record<string, unknown>>, req: QueryV2RequestDto, from: number, to: number, intervalS: number): SeriesPoint[] {
  const keyOf = (r: Record<string, unknown>) => (Number(r.r) === 0 ? null : Object.fromEntries(req.groupBy.map((g) => [g, displayValue(g, r[`g_${g}`])])));
  const seriesIds = new Map<string, { r: number; key: Record<string, string | number> | null }>();
  const byBucket = new Map<number, Map<number, Record<string, unknown>>>();
  for (const r of rows) {
    const rank = req.groupBy.length ? Number(r.r) : 1;
    if (!seriesIds.has(String(rank))) seriesIds.set(String(rank), { r: rank, key: req.groupBy.length ? keyOf(r) : {} });
    const t = Number(r.t);
    if (!byBucket.has(t)) byBucket.set(t, new Map());
    byBucket.get(t)!.set(rank, r);
  }
  if (seriesIds.size === 0) seriesIds.set('1', { r: 1, key: req.groupBy.length ? null : {} });
  const order = [...seriesIds.values()].sort((a, b) => (a.r === 0 ? 1 : b.r === 0 ? -1 : a.r - b.r));
  const out: SeriesPoint[] = [];
  const first = Math.floor(from / 1000 / intervalS) * intervalS;
  for (let t = first; t * 1000 < to; t += intervalS) {
    for (const s of order) {
      const r = byBucket.get(t)?.get(s.r);
      out.push({ t: new Date(t * 1000).toISOString(), key: s.key, metrics: Object.fromEntries(req.metrics.map((m) => [m, Number(r?.[m] ?? 0)])) });
    }
  }
  return out;
}
