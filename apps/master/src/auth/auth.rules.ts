import { createHash, timingSafeEqual } from 'node:crypto';

export type Role = 'admin' | 'viewer';

/** Who made a request: an API user (by token name), a collector node, or nobody (auth disabled). */
export type Principal = { kind: 'user'; name: string; role: Role } | { kind: 'node'; node: string } | { kind: 'anonymous' };

/** Never need a token: probes, metrics and the API description. */
export const OPEN_PATHS = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/api\/docs(\/|-json|-yaml|$)/];
/** The one kind of POST a viewer may make. */
const VIEWER_POSTS = [/^\/api\/v\d+\/query(\/|$)/];

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function isOpenPath(path: string): boolean {
  return OPEN_PATHS.some((p) => p.test(path));
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const h = Array.isArray(header) ? header[0] : header;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h ?? '');
  return m ? m[1] : null;
}

export interface TokenTables {
  tokens: Array<{ name: string; role: Role; sha256: string }>;
  nodeTokens: Array<{ node: string; sha256: string }>;
}

/** Looks a token up by its SHA-256 (compared in constant time); null when it is not configured. */
export function principalForToken(token: string, tables: TokenTables): Principal | null {
  const digest = Buffer.from(sha256Hex(token), 'hex');
  const same = (hex: string) => hex.length === 64 && timingSafeEqual(Buffer.from(hex, 'hex'), digest);
  let found: Principal | null = null;
  for (const t of tables.tokens) if (same(t.sha256) && !found) found = { kind: 'user', name: t.name, role: t.role };
  for (const t of tables.nodeTokens) if (same(t.sha256) && !found) found = { kind: 'node', node: t.node };
  return found;
}

/**
 * What a principal may do: admin everything; viewer every GET/HEAD and POST on the query API; a node only the
 * routes marked for nodes (package download, public key). Returns null when allowed, else why not.
 */
export function forbiddenReason(p: Principal, method: string, path: string, nodeRoute: boolean): string | null {
  if (p.kind === 'anonymous') return null;
  if (p.kind === 'node') return nodeRoute ? null : `node token (${p.node}) may only download packages and read the public key`;
  if (p.role === 'admin') return null;
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return null;
  if (m === 'POST' && VIEWER_POSTS.some((r) => r.test(path))) return null;
  return `role viewer may not ${m} ${path} (admin only)`;
}

/** The name written as `author` of config versions. */
export function authorOf(p: Principal | undefined, fallback = 'anonymous'): string {
  if (!p || p.kind === 'anonymous') return fallback;
  return p.kind === 'user' ? p.name : `node:${p.node}`;
}
