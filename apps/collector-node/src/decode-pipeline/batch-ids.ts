import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Hands out batch-id incarnations: the high 32 bits of a batch id (16 lowercase hex digits), the low 32
 * being a sequence. Each decode-worker spawn gets its own incarnation, so ids stay unique across worker
 * restarts and node restarts without any coordination between workers. An incarnation is the unix
 * second at the time, or the last one + 1 when that is not larger; the last one is persisted (temp
 * file, fsync, rename) before it is used, so a clock stepping back never reuses an id.
 */
export class IncarnationSource {
  private last: number;
  private readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'incarnation');
    let last = 0;
    try {
      last = Number(readFileSync(this.file, 'utf8').trim());
    } catch {
      /* first start */
    }
    this.last = Number.isSafeInteger(last) && last > 0 ? last : 0;
  }

  next(nowMs = Date.now()): number {
    const v = Math.max(Math.floor(nowMs / 1000), this.last + 1);
    if (v > 0xffffffff) throw new Error('batch id incarnations exhausted');
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, String(v));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.last = v;
    return v;
  }
}
