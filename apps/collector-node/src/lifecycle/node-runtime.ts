import type { Health } from '@flowmesh/common';
import type { NodeInfo } from '@flowmesh/config-sync';
import type { Registry } from 'prom-client';

/** What the HTTP layer may see of the running node (a token, so controllers never import the lifecycle). */
export interface NodeRuntime {
  info(): NodeInfo;
  readiness(): Health & { components: Record<string, Health> };
  readonly metricsRegistry: Registry;
}

export const NODE_RUNTIME = Symbol('NODE_RUNTIME');

/** The part of Express's response the controllers touch (the app does not depend on @types/express). */
export interface HttpResponse {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}
