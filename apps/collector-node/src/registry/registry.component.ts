import { Component, Health, Logger } from '@flowmesh/common';
import { NodeHeartbeat, NodeInfo, NodeRegistryPublisher } from '@flowmesh/config-sync';

/**
 * The node's entry in the Redis registry. Redis being away never stops collection: health() says so
 * (and /readyz with it), and NodeRegistryPublisher re-registers on every reconnect.
 */
export class RegistryComponent implements Component {
  readonly name = 'redis';
  private publisher?: NodeRegistryPublisher;
  private wasConnected = false;
  private watch?: NodeJS.Timeout;

  constructor(
    private readonly redisUrl: string,
    private readonly heartbeatMs: number,
    private readonly info: () => NodeInfo,
    private readonly heartbeat: () => NodeHeartbeat,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.publisher = new NodeRegistryPublisher({ redisUrl: this.redisUrl }, this.info(), this.heartbeat, this.heartbeatMs);
    await this.publisher.start();
    this.watch = setInterval(() => this.logTransitions(), 500);
    this.watch.unref();
  }

  async stop(): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    await this.publisher?.stop();
  }

  get connected(): boolean {
    return this.publisher?.connected ?? false;
  }

  health(): Health {
    if (this.connected) return { status: 'ok' };
    const err = this.publisher?.lastError;
    const code = err?.match(/\b(E[A-Z]{3,}|NOAUTH|WRONGPASS|NOPERM)\b/)?.[1];
    const why = code ?? (err ? err.slice(0, 120) : this.wasConnected ? 'connection lost' : 'not registered yet');
    return { status: 'error', reason: `unreachable (${why}) — collecting continues` };
  }

  private logTransitions(): void {
    const now = this.connected;
    if (now === this.wasConnected) return;
    this.wasConnected = now;
    if (now) this.logger.info('registered in redis', { url: redactUrl(this.redisUrl) });
    else this.logger.warn('redis unreachable; collecting continues, will re-register', { url: redactUrl(this.redisUrl), error: this.publisher?.lastError });
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
