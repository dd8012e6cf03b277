/**
 * Block key (an integer of magnitude below 2^53; negative ones are stand-ins that no hash gives) →
 * a 32-bit integer (a slot, a record): KeyTable's open addressing with linear probing and
 * backward-shift deletion (same hash, same layout), with the values in an Int32Array too. The block
 * manager and the router's bookkeeping map millions of keys per replay; KeyTable's array of values
 * costs the collector, and growing it to millions of entries costs more than the lookups.
 */
const EMPTY = 0;
const stored = (key: number) => (key >= 0 ? key + 1 : key);
const keyOf = (k: number) => (k > 0 ? k - 1 : k);

export class SlotTable {
  /** Per position, the key encoded (stored): key + 1 for keys ≥ 0, the key itself below; 0 = empty. */
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let n = 16;
    while (n < initialCapacity * 2) n *= 2;
    this.keys = new Float64Array(n);
    this.vals = new Int32Array(n);
    this.mask = n - 1;
  }

  private home(key: number): number {
    let h = Math.imul((key >>> 0) ^ Math.imul(Math.floor(key / 4294967296), 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  private find(key: number): number {
    const k = stored(key);
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const s = this.keys[i]!;
      if (s === k) return i;
      if (s === EMPTY) return -1;
    }
  }

  /** The slot of `key`, or -1. */
  get(key: number): number {
    const i = this.find(key);
    return i < 0 ? -1 : this.vals[i]!;
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** Inserts or replaces. */
  set(key: number, slot: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const k = stored(key);
    let i = this.home(key);
    while (this.keys[i] !== EMPTY && this.keys[i] !== k) i = (i + 1) & this.mask;
    if (this.keys[i] === EMPTY) this.size++;
    this.keys[i] = k;
    this.vals[i] = slot;
  }

  /** The value of `key` if it is there (nothing changes then); else inserts `value` and returns -1. One probe either way. */
  getOrSet(key: number, value: number): number {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const k = stored(key);
    let i = this.home(key);
    for (let s = this.keys[i]!; s !== EMPTY; s = this.keys[i]!) {
      if (s === k) return this.vals[i]!;
      i = (i + 1) & this.mask;
    }
    this.size++;
    this.keys[i] = k;
    this.vals[i] = value;
    return -1;
  }

  delete(key: number): boolean {
    let i = this.find(key);
    if (i < 0) return false;
    // Backward shift: pull later entries of the probe run into the hole, so lookups never need tombstones.
    for (let j = (i + 1) & this.mask; this.keys[j] !== EMPTY; j = (j + 1) & this.mask) {
      const h = this.home(keyOf(this.keys[j]!));
      const movable = i <= j ? h <= i || h > j : h <= i && h > j;
      if (movable) {
        this.keys[i] = this.keys[j]!;
        this.vals[i] = this.vals[j]!;
        i = j;
      }
    }
    this.keys[i] = EMPTY;
    this.size--;
    return true;
  }

  /** Every slot, in table order. */
  *values(): IterableIterator<number> {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== EMPTY) yield this.vals[i]!;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Float64Array(keys.length * 2);
    this.vals = new Int32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    // Each key into the first empty place of its probe run, in table order (as set() would place them; keys are distinct).
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k === EMPTY) continue;
      let j = this.home(keyOf(k));
      while (this.keys[j] !== EMPTY) j = (j + 1) & this.mask;
      this.keys[j] = k;
      this.vals[j] = vals[i]!;
    }
  }
}
