export type HealthStatus = 'ok' | 'warning' | 'error';

export interface Health {
  status: HealthStatus;
  reason?: string;
}

/** A piece of an app with a start/stop lifecycle; apps start components in one written-out order and stop them in reverse. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  /** Drains within the grace period, then releases everything. */
  stop(graceMs?: number): Promise<void>;
  health(): Health;
}

/** Starts components in order; on failure stops those already started (reverse) and rethrows. */
export async function startAll(components: Component[]): Promise<void> {
  const started: Component[] = [];
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
    }
  } catch (e) {
    await stopAll(started);
    throw e;
  }
}

export async function stopAll(components: Component[], graceMs = 10_000): Promise<void> {
  for (const c of [...components].reverse()) {
    try {
      await c.stop(graceMs);
    } catch (e) {
      process.stderr.write(`stopping ${c.name} failed: ${(e as Error).message}\n`);
    }
  }
}

/** Worst status wins; reasons of non-ok components are listed. */
export function combineHealth(components: Component[]): Health & { components: Record<string, Health> } {
  const rank: Record<HealthStatus, number> = { ok: 0, warning: 1, error: 2 };
  let status: HealthStatus = 'ok';
  const all: Record<string, Health> = {};
  for (const c of components) {
    const h = c.health();
    all[c.name] = h;
    if (rank[h.status] > rank[status]) status = h.status;
  }
  const reasons = Object.entries(all)
    .filter(([, h]) => h.status !== 'ok')
    .map(([n, h]) => `${n}: ${h.reason ?? h.status}`);
  return { status, reason: reasons.length ? reasons.join('; ') : undefined, components: all };
}
