import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { Component, Health } from '@flowmesh/common';
import { NodeRegistryReader, NodeView } from '@flowmesh/config-sync';
import { MasterConfig } from '../config/master.config';
import { NodeSummaryDto, toNodeSummary } from './node-summary.dto';

/** The master's view of the node registry in Redis. Redis being away never stops the master: reads fail with 503 and /readyz says why. */
@Injectable()
export class RegistryService implements Component {
  readonly name = 'registry';
  private readonly reader: NodeRegistryReader;
  private readonly redisUrl: string;

  constructor(config: MasterConfig) {
    this.reader = new NodeRegistryReader({ redisUrl: config.redis.url }, config.nodeDownAfterMs);
    this.redisUrl = redactUrl(config.redis.url);
  }

  async start(): Promise<void> {
    await this.reader.start();
  }

  async stop(): Promise<void> {
    await this.reader.stop();
  }

  health(): Health {
    return this.reader.connected ? { status: 'ok' } : { status: 'error', reason: `redis ${this.redisUrl} is not reachable` };
  }

  /** Every registered node; 503 when the registry cannot be read. */
  async list(now = Date.now()): Promise<NodeView[]> {
    try {
      return await this.reader.list(now);
    } catch (e) {
      throw new ServiceUnavailableException(`node registry unavailable (redis ${this.redisUrl}): ${(e as Error).message}`);
    }
  }

  async summaries(): Promise<NodeSummaryDto[]> {
    return (await this.list()).map(toNodeSummary);
  }
}

/** Never print a password from the URL. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
