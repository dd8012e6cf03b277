/**
 * A hash table from block keys (integers of magnitude below 2^53) to values: a SlotTable (the
 * open addressing) from key to a place in an array of values, places reused once freed. The TS
 * prefix index looks up millions of blocks per replay; a JS Map with non-Smi keys costs ~400 ns
 * per delete + insert pair there (deleted entries pile up until it rehashes), this ~30.
 */
import {SlotTable} from './slot-table.js';

export class KeyTable<V> {
  private readonly places: SlotTable;
  private readonly vals: (V | undefined)[] = [];
  private readonly freed: number[] = [];

  constructor(initialCapacity?: number) {
    this.places = new SlotTable(initialCapacity);
  }

  get size(): number {
    return this.places.size;
  }

  get(key: number): V | undefined {
    const p = this.places.get(key);
    return p < 0 ? undefined : this.vals[p];
  }

  has(key: number): boolean {
    return this.places.has(key);
  }

  /** Inserts or replaces. */
  set(key: number, value: V): void {
    const next = this.freed.length ? this.freed.at(-1)! : this.vals.length;
    const p = this.places.getOrSet(key, next);
    if (p >= 0) {
      this.vals[p] = value;
      return;
    }
    if (next === this.vals.length) this.vals.push(value);
    else {
      this.freed.pop();
      this.vals[next] = value;
    }
  }

  delete(key: number): boolean {
    const p = this.places.take(key);
    if (p < 0) return false;
    this.vals[p] = undefined;
    this.freed.push(p);
    return true;
  }

  *values(): IterableIterator<V> {
    for (const p of this.places.values()) yield this.vals[p]!;
  }
}
