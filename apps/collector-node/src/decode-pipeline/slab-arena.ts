/**
 * Where a decode worker encodes its batches: SharedArrayBuffer slabs, each announced to the receiving
 * thread once, then filled front to back (bump allocation). The receiving thread releases a batch when the
 * spool no longer needs its bytes; a slab whose batches are all released is filled again from the start.
 * Memory is bounded by what the spool holds (its queue and in-memory bytes) plus one slab.
 */
export interface SlabAllocation {
  slab: number;
  offset: number;
  bytes: Buffer;
}

interface Slab {
  bytes: Buffer;
  top: number;
  live: number;
}

export class SlabArena {
  private readonly slabs: Slab[] = [];
  private current = -1;

  constructor(
    private readonly slabBytes: number,
    /** Called once per new slab, before any allocation in it is handed out. */
    private readonly announce: (slab: number, sab: SharedArrayBuffer) => void,
  ) {}

  alloc(n: number): SlabAllocation {
    let c = this.slabs[this.current];
    if (!c || c.top + n > c.bytes.length) {
      let i = this.slabs.findIndex((s, k) => k !== this.current && s.live === 0 && s.bytes.length >= n);
      if (i < 0) {
        const sab = new SharedArrayBuffer(Math.max(this.slabBytes, n));
        i = this.slabs.length;
        this.slabs.push({ bytes: Buffer.from(sab), top: 0, live: 0 });
        this.announce(i, sab);
      }
      c = this.slabs[i];
      c.top = 0;
      this.current = i;
    }
    const offset = c.top;
    c.top += (n + 7) & ~7;
    c.live++;
    return { slab: this.current, offset, bytes: c.bytes.subarray(offset, offset + n) };
  }

  release(slab: number): void {
    const s = this.slabs[slab];
    if (!s || s.live <= 0) throw new Error(`slab ${slab} released more often than allocated`);
    if (--s.live === 0 && slab === this.current) s.top = 0;
  }

  /** Slabs and bytes allocated (for tests and metrics). */
  get size(): { slabs: number; bytes: number; live: number } {
    return { slabs: this.slabs.length, bytes: this.slabs.reduce((n, s) => n + s.bytes.length, 0), live: this.slabs.reduce((n, s) => n + s.live, 0) };
  }
}
