/**
 * The one error the filter parser raises. `position` is the 0-based offset (UTF-16 code units, i.e. a
 * JavaScript string index) of the offending token in the text given to parseFilter; `expected` lists
 * what would have been accepted there (keywords and operators as written, placeholders in angle
 * brackets such as `<port number>`); `found` is the offending token (shortened) or `end of input`.
 */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';

  constructor(
    readonly position: number,
    readonly expected: string[],
    readonly found: string,
    /** What went wrong, without the position prefix (e.g. `expected a port number, found 'abc'`). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`at ${position}: ${reason}`, options);
  }

  /** JSON-friendly form for an API error body. */
  toJSON(): { position: number; expected: string[]; found: string; message: string } {
    return { position: this.position, expected: this.expected, found: this.found, message: this.message };
  }
}

export const END_OF_INPUT = 'end of input';

/** A token as shown in a message: quoted, control characters escaped (\u0000), at most 40 characters. */
export function quoteFound(text: string): string {
  let out = '';
  for (const ch of shortText(text)) {
    const code = ch.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return `'${out}'`;
}

/** At most 40 characters of `text` (37 and `...` when longer). */
export function shortText(text: string): string {
  if (text.length <= 40) return text;
  const cut = /[\uD800-\uDBFF]/.test(text[36]) ? 36 : 37; // never split a surrogate pair
  return `${text.slice(0, cut)}...`;
}
