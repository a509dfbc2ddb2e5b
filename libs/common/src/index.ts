export * from './lib/config-loader';
export * from './lib/component';
export * from './lib/logger';
export * from './lib/app-cli';
export * from './lib/version';
