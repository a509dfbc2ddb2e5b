/**
 * The ids of the batches this process saw committed, newest last, at most `capacity` of them: a replay of
 * a recent batch is answered without a query. Only a positive answer comes from here — an id missing
 * from the set may still be in the store (another process, an evicted entry, a lost reply) and is asked.
 */
export class CommittedIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 65_536) {}

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
