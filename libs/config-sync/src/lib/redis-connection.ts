import Redis, { RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import type { RegistryConnectionOptions } from './node-registry';

/**
 * How to reach Redis. Credentials may sit in the URL (`redis://user:password@host:port/db`, `rediss://` for TLS)
 * or in `username`/`password`; `tls` is passed to ioredis as is (CA, client certificate, servername...).
 * Same shape as the registry's options, so one object serves both.
 */
export interface ConfigSyncConnection extends RegistryConnectionOptions {
  username?: string;
  password?: string;
  tls?: ConnectionOptions;
}

export function createRedis(conn: ConfigSyncConnection, connectionName: string, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = {
    connectionName,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    ...extra,
    ...conn.redis,
  };
  if (conn.username !== undefined) options.username = conn.username;
  if (conn.password !== undefined) options.password = conn.password;
  if (conn.tls !== undefined) options.tls = conn.tls;
  return new Redis(conn.redisUrl, options);
}
