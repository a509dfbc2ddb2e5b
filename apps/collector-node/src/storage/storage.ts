import type { Health } from '@flowmesh/common';

/** A batch already encoded for the store (RowBinary, FLOW_COLUMNS order), with its row count. */
export interface EncodedBatch {
  rows: number;
  data: Buffer;
}

/** Where flows go. chDB today; a ClickHouse server (same schema, same SQL, same RowBinary) later. */
export interface FlowStore {
  readonly name: string;
  start(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
  health(): Health;
  /** Inserts one batch atomically; rejects (leaving nothing half-written) when the store refuses it. */
  insert(batch: EncodedBatch): Promise<void>;
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
