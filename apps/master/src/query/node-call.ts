import { NodeQueryStatus } from './query-response.dto';

/** One node's part of a federated query: its answer, or why there is none. */
export interface NodeCallOutcome<T> {
  id: string;
  status: NodeQueryStatus;
  error?: string;
  elapsedMs: number;
  result?: T;
}

const MAX_ERROR_TEXT = 300;

/**
 * POSTs `request` as JSON to `path` under a node's API URL. Never throws: every failure becomes an outcome
 * ('timeout' when the deadline passed, 'error' otherwise, with the reason). `problem` checks the answer's
 * shape (null when it is valid); `what` names the answer in error messages.
 */
export async function callNode<T>(
  id: string,
  apiUrl: string,
  path: string,
  request: unknown,
  timeoutMs: number,
  what: string,
  problem: (body: unknown) => string | null,
): Promise<NodeCallOutcome<T>> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await fetch(new URL(path, apiUrl.endsWith('/') ? apiUrl : apiUrl + '/').toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    const text = await res.text();
    if (!res.ok) return { id, status: 'error', error: `HTTP ${res.status}: ${text.slice(0, MAX_ERROR_TEXT)}`, elapsedMs: elapsed() };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { id, status: 'error', error: `invalid ${what}: not JSON`, elapsedMs: elapsed() };
    }
    const bad = problem(body);
    if (bad) return { id, status: 'error', error: `invalid ${what}: ${bad}`, elapsedMs: elapsed() };
    return { id, status: 'ok', elapsedMs: elapsed(), result: body as T };
  } catch (e) {
    if (timedOut) return { id, status: 'timeout', error: `no answer within ${timeoutMs} ms`, elapsedMs: elapsed() };
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const detail = err.cause?.code ?? err.cause?.message ?? err.message;
    return { id, status: 'error', error: `${err.message}${detail && detail !== err.message ? ` (${detail})` : ''}`, elapsedMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
