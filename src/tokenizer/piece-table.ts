/**
 * The BPE's cache of pre-tokenized pieces, looked up by a slice of the text it came from: no
 * substring per piece. Why: a prompt of new text is ~1,000 pieces, and a Map keyed by strings needs
 * each as its own string first (the regex match that makes it, then a hash of it in the Map); here
 * the sticky regex only says where a piece ends, its characters are hashed in place, and a hit is
 * confirmed with `startsWith` at its offset. Open addressing, linear probing, kept at most half full.
 * A piece's ids are one number (most words are one token) or an array.
 */
import {detached} from '../shared/detached.js';

export type PieceIds = number | readonly number[];

export class PieceTable {
  private slots: Int32Array;
  private keys: string[] = [];
  private values: PieceIds[] = [];

  constructor(
    /** Pieces kept before the table starts afresh (a bound on memory, as the Map's was). */
    private readonly maxPieces: number,
    initialSlots = 1 << 12,
  ) {
    this.slots = new Int32Array(initialSlots).fill(-1);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The ids of text[start, end), computed by `make` from the piece the first time. */
  get(text: string, start: number, end: number, make: (piece: string) => PieceIds): PieceIds {
    const mask = this.slots.length - 1;
    const length = end - start;
    for (let i = hashSlice(text, start, end) & mask; ; i = (i + 1) & mask) {
      const k = this.slots[i]!;
      if (k < 0) return this.add(detached(text.slice(start, end)), make);
      const key = this.keys[k]!;
      if (key.length === length && text.startsWith(key, start)) return this.values[k]!;
    }
  }

  private add(piece: string, make: (piece: string) => PieceIds): PieceIds {
    const ids = make(piece);
    if (this.keys.length >= this.maxPieces) {
      this.keys = [];
      this.values = [];
      this.slots.fill(-1);
    }
    this.slots[freeSlot(this.slots, piece)] = this.keys.length;
    this.keys.push(piece);
    this.values.push(ids);
    if (2 * this.keys.length > this.slots.length) {
      const slots = new Int32Array(this.slots.length * 2).fill(-1);
      for (let k = 0; k < this.keys.length; k++) slots[freeSlot(slots, this.keys[k]!)] = k;
      this.slots = slots;
    }
    return ids;
  }
}

function freeSlot(slots: Int32Array, key: string): number {
  const mask = slots.length - 1;
  let i = hashSlice(key, 0, key.length) & mask;
  while (slots[i]! >= 0) i = (i + 1) & mask;
  return i;
}

/** FNV-1a over the slice's UTF-16 code units. */
function hashSlice(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
