import { Injectable } from '@nestjs/common';
import { resolve } from 'node:path';
import { Component, Health, Logger } from '@flowmesh/common';
import { ConfigStatusReader, ConfigStore, loadOrCreateSigningKeyPair, publicKeyPem, SigningKeyPair } from '@flowmesh/config-sync';
import { MasterConfig } from '../config/master.config';
import { redactUrl } from '../registry/registry.service';

/**
 * The master's half of config sync: the Ed25519 signing key (`${dataDir}/master/keys`, created on first start),
 * the versioned store (ConfigStore) and the per-node convergence view (ConfigStatusReader).
 */
@Injectable()
/** Started and stopped by LifecycleService, in its written-out order. */
export class ControlPlaneService implements Component {
  readonly name = 'control-plane';
  readonly keys: SigningKeyPair;
  readonly keyDir: string;
  readonly store: ConfigStore;
  readonly status: ConfigStatusReader;
  private readonly redisUrl: string;
  private readonly log = new Logger('master.control-plane');

  constructor(config: MasterConfig) {
    this.keyDir = resolve(config.dataDir, 'master', 'keys');
    this.keys = loadOrCreateSigningKeyPair(this.keyDir);
    this.store = new ConfigStore({ redisUrl: config.redis.url }, this.keys);
    this.status = new ConfigStatusReader({ redisUrl: config.redis.url });
    this.redisUrl = redactUrl(config.redis.url);
  }

  get publicKeyPem(): string {
    return publicKeyPem(this.keys.publicKey);
  }

  async start(): Promise<void> {
    await Promise.all([this.store.start(), this.status.start()]);
    this.log.info('config store started', { keyId: this.keys.keyId, keyDir: this.keyDir });
  }

  async stop(): Promise<void> {
    await Promise.all([this.store.stop(), this.status.stop()]);
  }

  health(): Health {
    return this.store.connected ? { status: 'ok' } : { status: 'error', reason: `config store: redis ${this.redisUrl} is not reachable` };
  }
}
