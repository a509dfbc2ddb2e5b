import { Inject, Injectable } from '@nestjs/common';
import {
  answerColumns, buildListingSql, buildPartialSql, FilterNode, FilterSyntaxError, KnownTables, NodeQueryRequest, parseFilter, runListingPage, typedRow,
} from '@flowmesh/flow-query';
import { FLOW_STORE, FlowStore } from '../storage/storage';
import { PartialQueryDto, PartialQueryResponse } from './partial-query.dto';
import { NODE_ID } from './tokens';

/** A request the node refuses (400): a bad filter or a cursor that does not fit the listing order. */
export class PartialQueryError extends Error {}

/** Queries running at once on this node; more are refused (429) rather than queued behind the deadline. */
export const NODE_QUERY_CONCURRENCY = 4;

/**
 * The node's half of a federated query (v2): partial aggregates (sums per bucket and group, distinct
 * values as sets) or one page of a flow listing, computed by the store as a read-only query with the
 * master's limits. The filter arrives as canonical text and is parsed here again: the node trusts no SQL.
 */
@Injectable()
export class PartialQueryService {
  private running = 0;
  private readonly tables: KnownTables;

  constructor(
    @Inject(FLOW_STORE) private readonly store: FlowStore,
    @Inject(NODE_ID) private readonly nodeId: string,
  ) {
    const db = store.database.replace(/[^A-Za-z0-9_]/g, '');
    this.tables = new KnownTables(async () => (await store.select(`SELECT name FROM system.tables WHERE database = '${db}'`)).rows.map((x) => x[0]));
  }

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
      const segments = await this.tables.available(q.segments);
      const req: NodeQueryRequest = { ...q, segments };
      const { columns, kinds } = answerColumns(req);
      const select = async (sql: string) => (await this.store.select(sql)).rows.map((cells) => typedRow(cells, kinds));
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
}
