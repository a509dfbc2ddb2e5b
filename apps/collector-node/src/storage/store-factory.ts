import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from '@flowmesh/common';
import { ChdbStore } from './chdb.store';
import { ClickHouseStore } from './clickhouse.store';
import { StorageConfig } from './storage.config';
import { StorageMetrics } from './storage.metrics';
import { FlowStore } from './storage';

export interface StoreContext {
  /** The node's data directory root (config.dataDir); chDB keeps its files under `<dataDir>/<nodeId>/chdb`. */
  dataDir: string;
  nodeId: string;
  logger: Logger;
  metrics: StorageMetrics;
}

/** The store the config asks for; nothing is opened until start(). */
export function createFlowStore(cfg: StorageConfig, ctx: StoreContext): FlowStore {
  if (cfg.engine === 'clickhouse') {
    return new ClickHouseStore({ server: cfg.clickhouse, retention: cfg.retention, logger: ctx.logger, metrics: ctx.metrics });
  }
  const path = join(resolve(ctx.dataDir), ctx.nodeId, 'chdb');
  const pathTag = createHash('sha1').update(path).digest('hex').slice(0, 8);
  return new ChdbStore({
    path,
    memoryLimitBytes: cfg.memoryLimitBytes,
    filePrefix: `flowmesh-${ctx.nodeId}-${pathTag}-`,
    retention: cfg.retention,
    logger: ctx.logger,
    metrics: ctx.metrics,
  });
}
