/**
 * Splits filter text into tokens. Words are runs of `A-Z a-z 0-9 _ . : / -` (keywords, numbers,
 * addresses, networks, MACs and names are all words; the parser decides which is which by position).
 * Operators: ( ) [ ] , ! && || = == < > <= >=. Any other character is a `bad` token the parser reports.
 */

export type TokenKind = 'word' | 'op' | 'bad' | 'end';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Lowercased text, for case-insensitive keyword matching. */
  lower: string;
  pos: number;
}

const WORD_CHAR = /[A-Za-z0-9_.:/-]/;
const TWO_CHAR_OPS = new Set(['&&', '||', '==', '<=', '>=']);
const ONE_CHAR_OPS = new Set(['(', ')', '[', ']', ',', '!', '=', '<', '>']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (WORD_CHAR.test(c)) {
      let j = i + 1;
      while (j < n && WORD_CHAR.test(text[j])) j++;
      const w = text.slice(i, j);
      tokens.push({ kind: 'word', text: w, lower: w.toLowerCase(), pos: i });
      i = j;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      tokens.push({ kind: 'op', text: two, lower: two, pos: i });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(c)) {
      tokens.push({ kind: 'op', text: c, lower: c, pos: i });
      i++;
      continue;
    }
    // One whole code point, so a message never shows half a surrogate pair.
    const cp = text.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    tokens.push({ kind: 'bad', text: ch, lower: ch, pos: i });
    i += ch.length;
  }
  tokens.push({ kind: 'end', text: '', lower: '', pos: n });
  return tokens;
}
