import type { QueryV2Response } from './federated-query.service';
import type { ExportRequestDto } from './query-v2.dto';

/** The part of the HTTP response (express) an export writes to. */
export interface ExportSink {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
  write(chunk: string): boolean;
  once(event: 'drain', fn: () => void): unknown;
  end(): unknown;
}

/** A CSV cell: quoted when it holds a separator, a quote or a line break (RFC 4180); formula-leading text is prefixed with '. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Flat records of an answer: groups (+ other, total), series points, or flows. */
export function answerRecords(a: QueryV2Response): Array<Record<string, unknown>> {
  if (a.flows) return a.flows;
  if (a.series) return a.series.map((p) => ({ t: p.t, ...(p.key ?? Object.fromEntries(a.groupBy.map((g) => [g, '(other)']))), ...p.metrics }));
  const out: Array<Record<string, unknown>> = (a.rows ?? []).map((r) => ({ ...r.key, ...r.metrics }));
  if (a.other) out.push({ ...Object.fromEntries(a.groupBy.map((g) => [g, '(other)'])), ...a.other });
  if (a.totals) out.push({ ...Object.fromEntries(a.groupBy.map((g) => [g, '(total)'])), ...a.totals });
  return out;
}

function write(res: ExportSink, chunk: string): Promise<void> {
  return new Promise((resolve) => (res.write(chunk) ? resolve() : res.once('drain', () => resolve())));
}

/**
 * Streams an answer. A flow listing continues page by page (through `next`) until the cursor ends or
 * maxRows. X-Flowmesh-Partial says whether the first page missed a node; a node missing from any page is
 * named on a last NDJSON line / CSV comment line (headers are gone by then).
 */
export async function exportRows(
  first: QueryV2Response, req: ExportRequestDto, res: ExportSink, next: (cursor: string, limit: number) => Promise<QueryV2Response>,
): Promise<void> {
  const csv = req.format === 'csv';
  res.status(200);
  res.setHeader('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
  res.setHeader('x-flowmesh-partial', String(first.partial));
  let header: string[] | undefined;
  let sent = 0;
  const max = req.maxRows ?? Number.MAX_SAFE_INTEGER;
  const missing = new Set<string>();
  let page: QueryV2Response | undefined = first;
  try {
    while (page) {
      for (const n of page.nodes) if (n.status !== 'ok') missing.add(`${n.id} ${n.status}`);
      let chunk = '';
      for (const r of answerRecords(page)) {
        if (sent >= max) break;
        if (csv) {
          if (!header) {
            header = Object.keys(r);
            chunk += header.map(csvCell).join(',') + '\n';
          }
          chunk += header.map((h) => csvCell(r[h])).join(',') + '\n';
        } else chunk += JSON.stringify(r) + '\n';
        sent++;
      }
      if (chunk) await write(res, chunk);
      if (page.mode !== 'flows' || !page.nextCursor || sent >= max) break;
      page = await next(page.nextCursor, Math.min(10_000, max - sent));
    }
    if (missing.size) await write(res, csv ? `# partial: ${[...missing].join('; ')}\n` : JSON.stringify({ partial: true, missing: [...missing] }) + '\n');
  } catch (e) {
    await write(res, csv ? `# error: ${(e as Error).message}\n` : JSON.stringify({ error: (e as Error).message }) + '\n');
  }
  res.end();
}
