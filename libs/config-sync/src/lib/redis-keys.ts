/** Every Redis key the control plane uses, in one place. */
export const REDIS_KEYS = {
  nodes: 'flowmesh:nodes',
  node: (id: string) => `flowmesh:node:${id}`,
  events: 'flowmesh:events',
} as const;

export type RegistryEvent = { type: 'node-registered' | 'node-deregistered'; id: string; at: number };
