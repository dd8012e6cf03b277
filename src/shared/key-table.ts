/**
 * A hash table from block keys (non-negative integers below 2^53) to values: open addressing with
 * linear probing and backward-shift deletion, keys in a Float64Array. The mocker's block cache
 * inserts and evicts millions of blocks per trace replay; a JS Map with non-Smi keys costs
 * ~400 ns per delete + insert pair there (deleted entries pile up until it rehashes), this ~30.
 */
export class KeyTable<V> {
  /** key + 1 per slot; 0 = empty. */
  private keys: Float64Array;
  private vals: (V | undefined)[];
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let n = 16;
    while (n < initialCapacity * 2) n *= 2;
    this.keys = new Float64Array(n);
    this.vals = new Array(n).fill(undefined);
    this.mask = n - 1;
  }

  private home(key: number): number {
    let h = Math.imul((key >>> 0) ^ Math.imul(Math.floor(key / 4294967296), 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  private find(key: number): number {
    const k = key + 1;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const s = this.keys[i]!;
      if (s === k) return i;
      if (s === 0) return -1;
    }
  }

  get(key: number): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.vals[i];
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** Inserts or replaces. */
  set(key: number, value: V): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const k = key + 1;
    let i = this.home(key);
    while (this.keys[i] !== 0 && this.keys[i] !== k) i = (i + 1) & this.mask;
    if (this.keys[i] === 0) this.size++;
    this.keys[i] = k;
    this.vals[i] = value;
  }

  delete(key: number): boolean {
    let i = this.find(key);
    if (i < 0) return false;
    // Backward shift: pull later entries of the probe run into the hole, so lookups never need tombstones.
    for (let j = (i + 1) & this.mask; this.keys[j] !== 0; j = (j + 1) & this.mask) {
      const h = this.home(this.keys[j]! - 1);
      const movable = i <= j ? h <= i || h > j : h <= i && h > j;
      if (movable) {
        this.keys[i] = this.keys[j]!;
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    this.keys[i] = 0;
    this.vals[i] = undefined;
    this.size--;
    return true;
  }

  *values(): IterableIterator<V> {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) yield this.vals[i]!;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Float64Array(keys.length * 2);
    this.vals = new Array(keys.length * 2).fill(undefined);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i]! - 1, vals[i]!);
  }
}
