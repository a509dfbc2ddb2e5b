export * from './lib/node-registry.dto';
export * from './lib/node-registry';
export * from './lib/redis-keys';
