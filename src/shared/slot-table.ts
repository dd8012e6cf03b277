/**
 * Block key (an integer of magnitude below 2^53; negative ones are stand-ins that no hash gives) →
 * a 32-bit integer (a slot, a record): KeyTable's open addressing with linear probing and
 * backward-shift deletion (same hash), with each value beside its key in one buffer (16 bytes a
 * position: the key as a double, the value as an int32; a probe touches one cache line, not two). The block manager and the router's bookkeeping map millions of
 * keys per replay; KeyTable's array of values costs the collector, and growing it to millions of
 * entries costs more than the lookups.
 */
const EMPTY = 0;
const stored = (key: number) => (key >= 0 ? key + 1 : key);
const keyOf = (k: number) => (k > 0 ? k - 1 : k);

export class SlotTable {
  /** Per position p: cells[2p] the key encoded (stored(): key + 1 for keys ≥ 0, the key itself below; 0 = empty). */
  private cells: Float64Array;
  /** The same buffer as int32s: vals[4p + 2] is position p's value. */
  private vals: Int32Array;
  /** Positions − 1 (a power of two minus one). */
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let n = 16;
    while (n < initialCapacity * 2) n *= 2;
    this.cells = new Float64Array(2 * n);
    this.vals = new Int32Array(this.cells.buffer);
    this.mask = n - 1;
  }

  private home(key: number): number {
    let h = Math.imul((key >>> 0) ^ Math.imul(Math.floor(key / 4294967296), 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The position of `key`, or -1. */
  private find(key: number): number {
    const k = stored(key);
    const c = this.cells;
    for (let p = this.home(key); ; p = (p + 1) & this.mask) {
      const s = c[2 * p]!;
      if (s === k) return p;
      if (s === EMPTY) return -1;
    }
  }

  /** The value of `key`, or -1. */
  get(key: number): number {
    const p = this.find(key);
    return p < 0 ? -1 : this.vals[4 * p + 2]!;
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** Inserts or replaces. */
  set(key: number, value: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const k = stored(key);
    const c = this.cells;
    let p = this.home(key);
    while (c[2 * p] !== EMPTY && c[2 * p] !== k) p = (p + 1) & this.mask;
    if (c[2 * p] === EMPTY) this.size++;
    c[2 * p] = k;
    this.vals[4 * p + 2] = value;
  }

  /** The value of `key` if it is there (nothing changes then); else inserts `value` and returns -1. One probe either way. */
  getOrSet(key: number, value: number): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const k = stored(key);
    const c = this.cells;
    let p = this.home(key);
    for (let s = c[2 * p]!; s !== EMPTY; s = c[2 * p]!) {
      if (s === k) return this.vals[4 * p + 2]!;
      p = (p + 1) & this.mask;
    }
    this.size++;
    c[2 * p] = k;
    this.vals[4 * p + 2] = value;
    return -1;
  }

  delete(key: number): boolean {
    return this.take(key) >= 0;
  }

  /** Removes the key and returns its value; -1 when it was not there (one lookup where get + delete take two). */
  take(key: number): number {
    let i = this.find(key);
    if (i < 0) return -1;
    const c = this.cells;
    const v = this.vals;
    const taken = v[4 * i + 2]!;
    // Backward shift: pull later entries of the probe run into the hole, so lookups never need tombstones.
    for (let j = (i + 1) & this.mask; c[2 * j] !== EMPTY; j = (j + 1) & this.mask) {
      const h = this.home(keyOf(c[2 * j]!));
      const movable = i <= j ? h <= i || h > j : h <= i && h > j;
      if (movable) {
        c[2 * i] = c[2 * j]!;
        v[4 * i + 2] = v[4 * j + 2]!;
        i = j;
      }
    }
    c[2 * i] = EMPTY;
    this.size--;
    return taken;
  }

  /** Keys it holds before it grows (the constructor's capacity, or what growing has made room for). */
  get capacity(): number {
    return (this.mask + 1) / 2;
  }

  /** Every value, in table order. */
  *values(): IterableIterator<number> {
    const c = this.cells;
    for (let p = 0; p <= this.mask; p++) if (c[2 * p] !== EMPTY) yield this.vals[4 * p + 2]!;
  }

  private grow(): void {
    const old = this.cells;
    const oldVals = this.vals;
    const n = 2 * (this.mask + 1);
    const c = (this.cells = new Float64Array(2 * n));
    const v = (this.vals = new Int32Array(c.buffer));
    this.mask = n - 1;
    // Each key into the first empty place of its probe run, in table order (as set() would place them; keys are distinct).
    for (let i = 0; i < old.length; i += 2) {
      const k = old[i]!;
      if (k === EMPTY) continue;
      let p = this.home(keyOf(k));
      while (c[2 * p] !== EMPTY) p = (p + 1) & this.mask;
      c[2 * p] = k;
      v[4 * p + 2] = oldVals[2 * i + 2]!;
    }
  }
}
