import { ClickHouseClient, createClient } from '@clickhouse/client';
import { answerColumns, buildSegmentAggregateSql, FilterNode, KnownTables, NodeQueryRequest, runListingPage, typedRow } from '@flowmesh/flow-query';
import { Logger } from '@flowmesh/common';
import type { ClusterQueryConfig } from '../config/master.config';
import type { PartialOutcome } from './partial-client';

/** What a shard-connection failure looks like in a Distributed query (18.16 … 26.x: codes 210, 279, 209). */
const SHARD_UNREACHABLE = /Code: (210|279|209)\b|All connection tries failed|Connection refused|NETWORK_ERROR|ALL_CONNECTION_TRIES_FAILED/i;

export interface ShardInfo {
  shard: number;
  host: string;
  port: number;
}

/**
 * Answers federated queries from a ClickHouse server cluster's Distributed tables (query.cluster.url):
 * collector nodes with storage.engine=clickhouse write one shard each; the server the master asks fans the
 * query out to every shard, the shards aggregate their own rows and the server merges them. The answer
 * comes back as one partial (one per time segment: each segment is a flat GROUP BY, so the shards do the
 * aggregation), merged by the master's engine like nodes' partials.
 *
 * A shard that cannot be reached is never silently left out: the query first runs with
 * skip_unavailable_shards = 0; when a shard's connection fails, every shard is probed, the query runs
 * again without the unreachable ones, and they are named in the answer (partial: true).
 */
export class ClusterQuerySource {
  private client?: ClickHouseClient;
  private readonly log = new Logger('master.query.cluster');
  private readonly tables: KnownTables;

  constructor(private readonly cfg: ClusterQueryConfig) {
    this.tables = new KnownTables(
      async () => (await this.select(`SELECT name FROM system.tables WHERE database = '${cfg.database}'`, 10_000)).map((r) => String(r[0])),
      cfg.tableSuffix,
      60_000,
    );
  }

  get enabled(): boolean {
    return this.cfg.url !== '';
  }

  /** The id the answer's `nodes` list gives the cluster. */
  get id(): string {
    return `cluster:${this.cfg.name}`;
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }

  /** The cluster's partial answer to `req`, and one 'down' entry per unreachable shard. Never throws. */
  async ask(req: NodeQueryRequest, filter: FilterNode, timeoutMs: number): Promise<PartialOutcome[]> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const segments = req.mode === 'flows' ? req.segments : await this.tables.available(req.segments);
      const names = { database: this.cfg.database, tableSuffix: this.cfg.tableSuffix, readonly: false };
      const { columns, kinds } = answerColumns(req);
      const answer = async (skipUnavailable: boolean): Promise<Array<Array<number | string>>> => {
        const select = async (sql: string) =>
          (await this.select(skipUnavailable ? `${sql}, skip_unavailable_shards = 1` : sql, timeoutMs)).map((r) => typedRow(r, kinds));
        if (req.mode === 'flows') return runListingPage(req, filter, names, select);
        const out: Array<Array<number | string>> = [];
        for (const s of segments) out.push(...(await select(buildSegmentAggregateSql(req, s, filter, names))));
        return out;
      };
      let down: Array<ShardInfo & { error: string }> = [];
      let rows: Array<Array<number | string>>;
      try {
        rows = await answer(false);
      } catch (e) {
        if (!SHARD_UNREACHABLE.test((e as Error).message)) throw e;
        down = await this.unreachableShards();
        if (!down.length) throw e;
        this.log.warn('shards unreachable; answering from the others', { shards: down });
        rows = await answer(true);
      }
      const ok: PartialOutcome = { id: this.id, status: 'ok', elapsedMs: elapsed(), result: { node: this.id, columns, rows, tables: [...new Set(segments.map((s) => s.table))] } };
      return [ok, ...down.map((d): PartialOutcome => ({ id: `${this.id}/shard-${d.shard} (${d.host}:${d.port})`, status: 'down', error: d.error, elapsedMs: elapsed() }))];
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0].slice(0, 300);
      const timedOut = /timeout|Timeout exceeded|Code: 159\b/i.test(msg);
      return [{ id: this.id, status: timedOut ? 'timeout' : 'error', error: `ClickHouse ${this.cfg.url}: ${msg}`, elapsedMs: elapsed() }];
    }
  }

  /** The shards of the cluster that do not answer a trivial remote() query. */
  async unreachableShards(): Promise<Array<ShardInfo & { error: string }>> {
    const shards = (await this.select(`SELECT shard_num, host_name, port FROM system.clusters WHERE cluster = '${this.cfg.name}' ORDER BY shard_num`, 10_000)).map(
      (r): ShardInfo => ({ shard: Number(r[0]), host: String(r[1]), port: Number(r[2]) }),
    );
    const down: Array<ShardInfo & { error: string }> = [];
    for (const s of shards) {
      try {
        await this.select(`SELECT dummy FROM remote('${s.host.replace(/[^A-Za-z0-9_.:-]/g, '')}:${s.port}', system.one)`, 10_000);
      } catch (e) {
        down.push({ ...s, error: `shard unreachable: ${(e as Error).message.split('\n')[0].slice(0, 200)}` });
      }
    }
    return down;
  }

  private async select(sql: string, timeoutMs: number): Promise<unknown[][]> {
    this.client ??= createClient({
      url: this.cfg.url,
      username: this.cfg.username,
      password: this.cfg.password,
      request_timeout: Math.max(1000, this.cfg.requestTimeoutMs),
      application: 'flowmesh-master',
    });
    const rs = await this.client.query({
      query: sql,
      format: 'JSONCompact',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      abort_signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await rs.json()) as { data: unknown[][] };
    return body.data;
  }
}
