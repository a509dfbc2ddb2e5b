import type { TabularResult } from './storage';

const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', '0': '\0', '\\': '\\', "'": "'", b: '\b', f: '\f' };

function unescape(cell: string): string {
  return cell.indexOf('\\') < 0 ? cell : cell.replace(/\\(.)/g, (_m, c: string) => ESCAPES[c] ?? c);
}

/**
 * ClickHouse TabSeparated output: one line per row, cells split by tabs, backslash escapes; a query
 * WITH TOTALS adds an empty line and then the totals row.
 */
export function parseTabSeparated(text: string): TabularResult {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const rows: string[][] = [];
  let totals: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') {
      if (i + 1 < lines.length) totals = lines[i + 1].split('\t').map(unescape);
      break;
    }
    rows.push(lines[i].split('\t').map(unescape));
  }
  return totals ? { rows, totals } : { rows };
}
