// Imported first by main.ts, before anything that could touch libuv's thread pool or read the config.
import { applyRedisUrlFallback } from './config/collector.config';

// chDB's queryAsync runs every query and insert on libuv's pool, next to fs and dns work; the default
// 4 threads can be starved by a slow insert plus concurrent local queries. The pool is sized on first
// use, so this must run before any of it.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16';

// REDIS_URL (the conventional name) applies when FLOWMESH_NODE_REDIS__URL is not set.
applyRedisUrlFallback(process.env);
