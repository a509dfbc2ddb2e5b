import type { Registry } from 'prom-client';

/** The value of one series (by exact labels) in a prom-client registry; undefined if the series does not exist. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  if (!m) return undefined;
  const { values } = await m.get();
  const want = Object.entries(labels);
  const hit = values.find((v) => {
    const have = v.labels as Record<string, string | number>;
    return want.length === Object.keys(have).length && want.every(([k, x]) => String(have[k]) === x);
  });
  return hit?.value;
}
