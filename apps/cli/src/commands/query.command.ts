import { Command, InvalidArgumentError } from 'commander';

/** Where command output goes (stdout for results, stderr for warnings); tests pass their own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export const DEFAULT_MASTER_URL = process.env.FLOWMESH_MASTER_URL || 'http://127.0.0.1:8080';

/** `Authorization: Bearer $FLOWMESH_TOKEN` when the master has auth enabled. */
function authHeader(): Record<string, string> {
  const t = process.env.FLOWMESH_TOKEN;
  return t ? { authorization: `Bearer ${t}` } : {};
}

interface Counters {
  bytes: number;
  packets: number;
  flows: number;
}

/** The master's POST /api/v1/query answer (see apps/master/README.md). */
export interface QueryAnswer {
  from: string;
  to: string;
  by: string;
  orderBy: 'bytes' | 'packets' | 'flows';
  totals: Counters;
  top: Array<Counters & { key: string }>;
  other: Counters;
  nodes: Array<{ id: string; status: string; error?: string; elapsedMs: number }>;
  partial: boolean;
  elapsedMs: number;
}

/** Right-aligns every column except those listed as left-aligned; two spaces between columns. */
export function renderTable(header: string[], rows: string[][], leftAligned: number[] = [0]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (leftAligned.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Calls the master; any non-2xx answer becomes an error carrying the master's own messages. */
export async function masterRequest<T>(master: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const url = new URL(path, master.endsWith('/') ? master : master + '/').toString();
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...authHeader(), ...(body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    throw new Error(`cannot reach the master at ${master}: ${err.cause?.code ?? err.cause?.message ?? err.message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the master at ${master} answered HTTP ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const msg = (json as { message?: unknown }).message;
    const detail = Array.isArray(msg) ? msg.join('; ') : String(msg ?? text);
    throw new Error(`the master refused the request (HTTP ${res.status}): ${detail}`);
  }
  return json as T;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function share(part: number, total: number): string {
  return total > 0 ? ((part / total) * 100).toFixed(1) : '0.0';
}

/** The human view of a query answer: a header line, the aligned top-N table with other and total rows. */
export function formatQueryAnswer(a: QueryAnswer): string {
  const m = a.orderBy;
  const rows = a.top.map((t) => [t.key, String(t.bytes), String(t.packets), String(t.flows), share(t[m], a.totals[m])]);
  rows.push(['(other)', String(a.other.bytes), String(a.other.packets), String(a.other.flows), share(a.other[m], a.totals[m])]);
  rows.push(['(total)', String(a.totals.bytes), String(a.totals.packets), String(a.totals.flows), a.totals[m] > 0 ? '100.0' : '0.0']);
  const answered = a.nodes.filter((n) => n.status === 'ok').length;
  const head = `top ${a.top.length} ${a.by} by ${m}, ${a.from} -> ${a.to}, ${answered}/${a.nodes.length} nodes, ${a.elapsedMs} ms\n`;
  return head + renderTable([a.by, 'bytes', 'packets', 'flows', `share% (${m})`], rows);
}

/** One warning line per node that did not contribute, or '' when the answer is complete. */
export function formatPartialWarnings(a: QueryAnswer): string {
  if (!a.partial) return '';
  return a.nodes
    .filter((n) => n.status !== 'ok')
    .map((n) => `warning: partial result: node ${n.id} ${n.status}${n.error ? `: ${n.error}` : ''}\n`)
    .join('');
}

/** The master's POST /api/v2/query answer (the parts the CLI prints). */
export interface QueryV2Answer {
  mode: 'aggregate' | 'series' | 'flows';
  from: string;
  to: string;
  filter: string;
  plan: { reason: string };
  groupBy: string[];
  metrics: string[];
  orderBy: string;
  rows?: Array<{ key: Record<string, string | number>; metrics: Record<string, number> }>;
  other?: Record<string, number> | null;
  totals?: Record<string, number>;
  series?: Array<{ t: string; key: Record<string, string | number> | null; metrics: Record<string, number> }>;
  flows?: Array<Record<string, string | number>>;
  nextCursor?: string | null;
  nodes: Array<{ id: string; status: string; error?: string; elapsedMs: number }>;
  partial: boolean;
  elapsedMs: number;
}

const num = (v: number | undefined) => (v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toFixed(2));

/** The human view of a v2 answer: a header line and an aligned table (top-N + other + total, series points, or flows). */
export function formatV2Answer(a: QueryV2Answer): string {
  const answered = a.nodes.filter((n) => n.status === 'ok').length;
  const filter = a.filter && a.filter !== 'any' ? ` where ${a.filter}` : '';
  const head = `${a.mode}${a.groupBy.length ? ` by ${a.groupBy.join(',')}` : ''}${filter}, ${a.from} -> ${a.to}, ${answered}/${a.nodes.length} nodes, ${a.elapsedMs} ms (${a.plan.reason})\n`;
  if (a.mode === 'flows') {
    const cols = ['time_received', 'src_addr', 'src_port', 'dst_addr', 'dst_port', 'protocol', 'bytes', 'packets', 'exporter_addr', 'node'];
    const rows = (a.flows ?? []).map((f) => cols.map((c) => String(f[c] ?? '')));
    return head + renderTable(cols, rows, [0, 1, 3, 8, 9]) + (a.nextCursor ? `next page: --cursor ${a.nextCursor}\n` : '');
  }
  if (a.mode === 'series') {
    const header = ['t', ...a.groupBy, ...a.metrics];
    const rows = (a.series ?? []).map((p) => [p.t, ...a.groupBy.map((g) => (p.key ? String(p.key[g]) : '(other)')), ...a.metrics.map((m) => num(p.metrics[m]))]);
    return head + renderTable(header, rows, [0, ...a.groupBy.map((_, i) => i + 1)]);
  }
  const m = a.orderBy;
  const total = a.totals?.[m] ?? 0;
  const share = (v: number | undefined) => (total > 0 && !m.startsWith('distinct_') ? (((v ?? 0) / total) * 100).toFixed(1) : '');
  const label = (text: string) => a.groupBy.map((_, i) => (i === 0 ? text : ''));
  const rows = (a.rows ?? []).map((r) => [...a.groupBy.map((g) => String(r.key[g])), ...a.metrics.map((x) => num(r.metrics[x])), share(r.metrics[m])]);
  if (a.other) rows.push([...label('(other)'), ...a.metrics.map((x) => num(a.other![x])), share(a.other[m])]);
  if (a.totals) rows.push([...(a.groupBy.length ? label('(total)') : []), ...a.metrics.map((x) => num(a.totals![x])), total > 0 ? '100.0' : '']);
  return head + renderTable([...a.groupBy, ...a.metrics, `share% (${m})`], rows, a.groupBy.map((_, i) => i));
}

interface QueryOptions {
  master: string;
  from: string;
  to: string;
  by: string;
  top: number;
  orderBy: string;
  metrics?: string;
  series?: string;
  flows?: boolean;
  sort: string;
  asc?: boolean;
  limit: number;
  cursor?: string;
  format?: string;
  nodes?: string;
  timeout: number;
  json?: boolean;
}

/** `flowmesh query`: top-N, time series or a flow listing over every node, through the master's v2 API. */
export function registerQuery(program: Command, io: CliIo = processIo): Command {
  return program
    .command('query')
    .description("federated query over all nodes, e.g. flowmesh query --from -1h 'src net 10.0.0.0/8 and dst port 443' --top 10 --by src_addr")
    .argument('[filter...]', 'nfdump filter expression (quote it)')
    .option('-m, --master <url>', 'master API base URL (env FLOWMESH_MASTER_URL)', DEFAULT_MASTER_URL)
    .option('--from <time>', 'start: ISO-8601 with zone, or relative like -15m, -1h, -2d', '-1h')
    .option('--to <time>', "end: ISO-8601 with zone, relative, or 'now'", 'now')
    .option('--by <dimensions>', 'group by these flow fields, comma-separated (src_addr, dst_port, protocol, ...); "" for totals only', 'src_addr')
    .option('--top <n>', 'number of groups (the rest is the (other) row)', positiveInt, 10)
    .option('--order-by <metric>', 'bytes, packets, flows, bps, pps or distinct_<field>', 'bytes')
    .option('--metrics <list>', 'comma-separated metrics (default bytes,packets,flows)')
    .option('--series <interval>', 'time series at this interval (1m, 5m, 1h, ...)')
    .option('--flows', 'list flows instead of aggregating')
    .option('--sort <field>', 'flow listing sort field', 'time_received')
    .option('--asc', 'flow listing in ascending order (default descending)')
    .option('--limit <n>', 'flow listing page size', positiveInt, 100)
    .option('--cursor <cursor>', 'continue a flow listing (the nextCursor of the previous page)')
    .option('--format <format>', 'export as csv or ndjson (streams every page)')
    .option('--nodes <ids>', 'only these nodes (comma-separated ids)')
    .option('--timeout <ms>', 'give up waiting for the master after this long', positiveInt, 30_000)
    .option('--json', 'print the raw JSON answer')
    .action(async (filter: string[], opts: QueryOptions) => {
      const body: Record<string, unknown> = {
        from: opts.from,
        to: opts.to,
        filter: filter.join(' '),
        mode: opts.flows ? 'flows' : opts.series ? 'series' : 'aggregate',
        groupBy: opts.by.split(',').map((x) => x.trim()).filter(Boolean),
        top: opts.top,
        orderBy: opts.orderBy,
      };
      if (opts.metrics) body.metrics = opts.metrics.split(',').map((x) => x.trim()).filter(Boolean);
      else if (!['bytes', 'packets', 'flows'].includes(opts.orderBy)) body.metrics = ['bytes', 'packets', 'flows', opts.orderBy];
      if (opts.series) body.interval = opts.series;
      if (opts.flows) Object.assign(body, { sort: opts.sort, order: opts.asc ? 'asc' : 'desc', limit: opts.limit, groupBy: [] });
      if (opts.cursor) body.cursor = opts.cursor;
      if (opts.nodes) body.nodes = opts.nodes.split(',').map((s) => s.trim()).filter(Boolean);
      if (opts.format) {
        if (!['csv', 'ndjson'].includes(opts.format)) throw new InvalidArgumentError('--format must be csv or ndjson');
        await exportQuery(opts.master, { ...body, format: opts.format }, opts.timeout, io);
        return;
      }
      const answer = await masterRequest<QueryV2Answer>(opts.master, 'api/v2/query', body, opts.timeout);
      io.err(formatPartialWarnings(answer as unknown as QueryAnswer));
      io.out(opts.json ? JSON.stringify(answer, null, 2) + '\n' : formatV2Answer(answer));
    });
}

/** Streams POST /api/v2/query/export to the output as it arrives. */
async function exportQuery(master: string, body: unknown, timeoutMs: number, io: CliIo): Promise<void> {
  const url = new URL('api/v2/query/export', master.endsWith('/') ? master : master + '/').toString();
  const res = await fetch(url, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) {
    const text = await res.text();
    throw new Error(`the master refused the export (HTTP ${res.status}): ${text.slice(0, 500)}`);
  }
  const decoder = new TextDecoder();
  for await (const chunk of res.body) io.out(decoder.decode(chunk as Uint8Array, { stream: true }));
}
