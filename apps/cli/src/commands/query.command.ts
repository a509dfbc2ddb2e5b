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
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
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

interface QueryOptions {
  master: string;
  from: string;
  to: string;
  by: string;
  top: number;
  orderBy: string;
  nodes?: string;
  timeout: number;
  json?: boolean;
}

/** `flowmesh query`: a federated top-N over every node, through the master's API. */
export function registerQuery(program: Command, io: CliIo = processIo): Command {
  return program
    .command('query')
    .description('top-N over all nodes (federated through the master)')
    .argument('[filter...]', 'filter expression (not supported yet)')
    .option('-m, --master <url>', 'master API base URL (env FLOWMESH_MASTER_URL)', DEFAULT_MASTER_URL)
    .option('--from <time>', "start: ISO-8601 with zone, or relative like -15m, -1h, -2d", '-1h')
    .option('--to <time>', "end: ISO-8601 with zone, relative, or 'now'", 'now')
    .option('--by <dimension>', 'group by this flow field (src_addr, dst_addr, src_port, dst_port, protocol, ...)', 'src_addr')
    .option('--top <n>', 'number of rows', positiveInt, 10)
    .option('--order-by <metric>', 'bytes, packets or flows', 'bytes')
    .option('--nodes <ids>', 'only these nodes (comma-separated ids)')
    .option('--timeout <ms>', 'give up waiting for the master after this long', positiveInt, 30_000)
    .option('--json', 'print the raw JSON answer')
    .action(async (filter: string[], opts: QueryOptions) => {
      if (filter.length > 0) {
        throw new Error(`query: filters are not supported yet (got "${filter.join(' ')}"); use --by, --top, --from and --to`);
      }
      const body: Record<string, unknown> = { from: opts.from, to: opts.to, by: opts.by, top: opts.top, orderBy: opts.orderBy };
      if (opts.nodes) body.nodes = opts.nodes.split(',').map((s) => s.trim()).filter(Boolean);
      const answer = await masterRequest<QueryAnswer>(opts.master, 'api/v1/query', body, opts.timeout);
      io.err(formatPartialWarnings(answer));
      io.out(opts.json ? JSON.stringify(answer, null, 2) + '\n' : formatQueryAnswer(answer));
    });
}
