import { BadRequestException, ConflictException, HttpException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ConfigError } from '@flowmesh/common';
import { ConfigConflictError, ConfigNotFoundError } from '@flowmesh/config-sync';

/** Library errors as HTTP answers: invalid → 400 (every problem by path), stale version → 409, missing → 404, Redis → 503. */
export function toHttpError(e: unknown): Error {
  if (e instanceof HttpException) return e;
  if (e instanceof ConfigError) return new BadRequestException(e.problems);
  if (e instanceof ConfigConflictError) {
    return new ConflictException({ statusCode: 409, error: 'Conflict', message: e.message, scope: e.scope, expectedVersion: e.expectedVersion, actualVersion: e.actualVersion });
  }
  if (e instanceof ConfigNotFoundError) return new NotFoundException(e.message);
  const msg = (e as Error)?.message ?? String(e);
  if (/Connection is closed|Stream isn't writeable|ECONNREFUSED|enableOfflineQueue|max retries/i.test(msg)) return new ServiceUnavailableException(`redis unavailable: ${msg}`);
  return e as Error;
}

export async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toHttpError(e);
  }
}

/** `?dryRun=true|1`. */
export function parseBool(value: unknown, name: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new BadRequestException([`${name}: must be true or false (got ${JSON.stringify(value)})`]);
}

export function parseVersionNumber(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^(0|[1-9]\d{0,9})$/.test(value)) throw new BadRequestException([`${name}: must be a non-negative integer (got ${JSON.stringify(value)})`]);
  return Number(value);
}

/** `If-Match: "3"` (or W/"3", or 3) and/or `?expectedVersion=3`; both must agree. */
export function expectedVersionOf(ifMatch: string | undefined, query: unknown): number | undefined {
  const q = parseVersionNumber(query, 'expectedVersion');
  if (ifMatch === undefined || ifMatch.trim() === '' || ifMatch.trim() === '*') return q;
  const m = /^(?:W\/)?"?(\d{1,10})"?$/.exec(ifMatch.trim());
  if (!m) throw new BadRequestException([`If-Match: must be the ETag of a version, e.g. "3" (got ${JSON.stringify(ifMatch)})`]);
  const h = Number(m[1]);
  if (q !== undefined && q !== h) throw new BadRequestException([`expectedVersion: ${q} disagrees with If-Match ${h}`]);
  return h;
}

export function etag(version: number): string {
  return `"${version}"`;
}
