import { Inject, Injectable } from '@nestjs/common';
import {
  buildListingSql, buildPartialSql, cellKind, FilterNode, FilterSyntaxError, listingColumns, NodeQueryRequest, parseFilter,
  partialColumns, QuerySegment, QueryTable, runListingPage,
} from '@flowmesh/flow-query';
import { FLOW_STORE, FlowStore } from '../storage/storage';
import { PartialQueryDto, PartialQueryResponse } from './partial-query.dto';
import { NODE_ID } from './tokens';

/** A request the node refuses (400): a bad filter or a cursor that does not fit the listing order. */
export class PartialQueryError extends Error {}

/** Queries running at once on this node; more are refused (429) rather than queued behind the deadline. */
export const NODE_QUERY_CONCURRENCY = 4;
const TABLES_TTL_MS = 30_000;

/**
 * The node's half of a federated query (v2): partial aggregates (sums per bucket and group, distinct
 * values as sets) or one page of a flow listing, computed by the store as a read-only query with the
 * master's limits. The filter arrives as canonical text and is parsed here again: the node trusts no SQL.
 */
@Injectable()
export class PartialQueryService {
  private running = 0;
  private tables?: { at: number; names: Set<string> };

  constructor(
    @Inject(FLOW_STORE) private readonly store: FlowStore,
    @Inject(NODE_ID) private readonly nodeId: string,
  ) {}

  get busy(): boolean {
    return this.running >= NODE_QUERY_CONCURRENCY;
  }

  async run(q: PartialQueryDto): Promise<PartialQueryResponse> {
    const t0 = performance.now();
    let filter: FilterNode;
    try {
      filter = parseFilter(q.filter);
    } catch (e) {
      throw new PartialQueryError(`filter: ${(e as FilterSyntaxError).message}`);
    }
    this.running++;
    try {
      const segments = await this.available(q.segments);
      const req: NodeQueryRequest = { ...q, segments };
      const columns = q.mode === 'flows' ? listingColumns() : partialColumns(req);
      const kinds = columns.map((c) => (c === 's_' && q.sort ? cellKind(q.sort.field) : cellKind(c)));
      const select = async (sql: string) => (await this.store.select(sql)).rows.map((cells) => cells.map((c, i) => (kinds[i] === 'num' ? Number(c) : c)));
      const names = { database: this.store.database };
      let sql: string;
      try {
        // Built first so that a request the SQL cannot express (a cursor of the wrong shape…) is a 400.
        sql = q.mode === 'flows' ? buildListingSql(req, filter, names) : buildPartialSql(req, filter, names);
      } catch (e) {
        throw new PartialQueryError((e as Error).message);
      }
      const rows = q.mode === 'flows' ? await runListingPage(req, filter, names, select) : await select(sql);
      return {
        node: this.nodeId,
        columns,
        rows,
        tables: [...new Set(segments.map((s) => s.table))],
        elapsedMs: Math.round((performance.now() - t0) * 1000) / 1000,
      };
    } finally {
      this.running--;
    }
  }

  /** Segments over rollups this store does not have are read from the raw table (same flows, same sums). */
  private async available(segments: QuerySegment[]): Promise<QuerySegment[]> {
    if (segments.every((s) => s.table === 'flows')) return segments;
    if (!this.tables || Date.now() - this.tables.at > TABLES_TTL_MS) {
      const db = this.store.database.replace(/[^A-Za-z0-9_]/g, '');
      const r = await this.store.select(`SELECT name FROM system.tables WHERE database = '${db}'`);
      this.tables = { at: Date.now(), names: new Set(r.rows.map((x) => x[0])) };
    }
    const names = this.tables.names;
    return segments.map((s) => (names.has(s.table) ? s : { ...s, table: 'flows' as QueryTable }));
  }
}
