import { registerDecorator, ValidationOptions } from 'class-validator';
import { isISO8601 } from 'class-validator';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^-(?:\d{1,9}[smhdw])+$/;
const RELATIVE_PART = /(\d+)([smhdw])/g;
/** A date-time without Z or an offset would be read in the server's local zone: refuse it. */
const TIME_WITHOUT_ZONE = /T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?$/;

export const TIME_SPEC_HINT = "an ISO-8601 time with a zone (e.g. 2024-05-01T10:00:00Z), 'now', or a relative time like -15m, -1h, -2d";

/** Why `text` is not a time spec, or null when it is one. */
export function timeSpecProblem(text: unknown): string | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return `must be ${TIME_SPEC_HINT}`;
  if (text === 'now' || RELATIVE.test(text)) return null;
  if (!isISO8601(text, { strict: true, strictSeparator: true })) return `must be ${TIME_SPEC_HINT}`;
  if (TIME_WITHOUT_ZONE.test(text)) return 'must include a time zone (Z or ±hh:mm)';
  if (Number.isNaN(Date.parse(text))) return `must be ${TIME_SPEC_HINT}`;
  return null;
}

/** Epoch milliseconds for `text` ('now', '-1h30m', or ISO-8601 with zone) relative to `now`; throws on anything else. */
export function parseTimeSpec(text: string, now: number): number {
  const problem = timeSpecProblem(text);
  if (problem) throw new Error(`${JSON.stringify(text)}: ${problem}`);
  if (text === 'now') return now;
  if (text.startsWith('-')) {
    let offset = 0;
    for (const [, n, unit] of text.matchAll(RELATIVE_PART)) offset += Number(n) * UNIT_MS[unit];
    return now - offset;
  }
  return Date.parse(text);
}

/** class-validator: a time as accepted by parseTimeSpec; the message says what is wrong with the value. */
export function IsTimeSpec(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isTimeSpec',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (a) => `${a.property} ${timeSpecProblem(a.value) ?? `must be ${TIME_SPEC_HINT}`}`, ...options },
      validator: { validate: (value: unknown) => timeSpecProblem(value) === null },
    });
}
