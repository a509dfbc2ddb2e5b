import type { Health } from '@flowmesh/common';

/**
 * A batch already encoded for the store: every column of RAW_COLUMNS (the flow columns, then batch_id)
 * in `format` (batch-encoding.ts: a Native block or RowBinary rows), its row count, and its id (16
 * lowercase hex digits, a UInt64, unique per node forever).
 */
export interface EncodedBatch {
  id: string;
  rows: number;
  format: 'native' | 'rowbinary';
  data: Buffer;
}

/** Where flows go: embedded chDB or a ClickHouse server — same schema, same SQL, same binary batches. */
export interface FlowStore {
  readonly name: string;
  readonly kind: 'chdb' | 'clickhouse';
  /** The database holding flows, flows_1m, flows_1h ('flowmesh' unless a server config says otherwise). */
  readonly database: string;
  start(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
  health(): Health;
  /**
   * Inserts one batch atomically (one INSERT, rows <= max_insert_block_size); rejects, leaving nothing
   * written, when the store refuses it. An INSERT whose reply was lost may still have committed: ask
   * committed(id) before inserting the same batch again.
   */
  insert(batch: EncodedBatch): Promise<void>;
  /** True when the rows of that batch are in the store; rejects when the store cannot be asked. */
  committed(batchId: string): Promise<boolean>;
  /**
   * Runs a read-only SELECT and returns its rows (and its WITH TOTALS row, if any) as text cells.
   * The SQL must contain no user text: callers build it from allow-listed names and validated numbers.
   */
  select(sql: string): Promise<TabularResult>;
}

export interface TabularResult {
  rows: string[][];
  totals?: string[];
}

export const FLOW_STORE = Symbol('FLOW_STORE');

const BATCH_ID = /^[0-9a-f]{16}$/;

/** A batch id is 16 lowercase hex digits (a UInt64); anything else is refused before it reaches SQL. */
export function isBatchId(id: string): boolean {
  return typeof id === 'string' && BATCH_ID.test(id);
}

/** The batch id as a decimal UInt64 literal for SQL (validated: never user text). */
export function batchIdLiteral(id: string): string {
  if (!isBatchId(id)) throw new Error(`invalid batch id ${JSON.stringify(String(id).slice(0, 40))}: want 16 lowercase hex digits`);
  return BigInt(`0x${id}`).toString(10);
}
