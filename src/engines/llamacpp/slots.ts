/**
 * What llama.cpp's KV cache holds, sequence by sequence, and the KV events that say so.
 *
 * The context has `count` sequences (slots), each with room for `capacity` tokens, so slots never
 * crowd each other out. A finished request leaves its tokens in its slot: the next request that
 * shares a prefix with any slot starts from there (cachedTokens), either in that slot when it is
 * idle, or in a free slot that shares the other one's cells (llama.cpp's seq_cp, no copy with a
 * unified cache). Which slot a request takes is decided in `place`.
 *
 * Blocks for routers: each slot's full blocks of `blockSize` tokens, hashed Dynamo's way. A block
 * is stored when the first slot holds it and removed when the last one drops it, so a router sees
 * exactly the prefixes this worker can serve from cache.
 */
import type {BlockHasher} from '../../kv/block-hasher.js';
import type {KvEventData} from '../../kv/events.js';

/** The sequence operations a placement needs, in order: drop the slot's cells from `keep` on, or replace them by `copyFrom`'s first `keep`. */
export interface Placement {
  slot: number;
  /** Prompt tokens already in the slot's cells after the operations (the request's cachedTokens). */
  keep: number;
  copyFrom?: number;
}

interface Slot {
  tokens: number[];
  /** Sequence hashes of its full blocks, in order. */
  blocks: bigint[];
  busy: boolean;
  lastUsed: number;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class SlotCache {
  private readonly slots: Slot[];
  /** How many slots hold each block (by sequence hash). */
  private readonly holders = new Map<bigint, number>();
  /** Each held block's parent and content hash, for snapshots. */
  private readonly blockInfo = new Map<bigint, {parent?: bigint; local: bigint}>();
  private tick = 0;

  constructor(
    readonly count: number,
    readonly capacity: number,
    private readonly hasher: BlockHasher,
    private readonly onEvent: (e: KvEventData) => void = () => {},
  ) {
    this.slots = Array.from({length: count}, () => ({tokens: [], blocks: [], busy: false, lastUsed: 0}));
  }

  get busySlots(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  /** Tokens held in cells, over all slots (a shared prefix counts once per slot: an upper bound). */
  get usedTokens(): number {
    return this.slots.reduce((a, s) => a + s.tokens.length, 0);
  }

  get blocksHeld(): number {
    return this.holders.size;
  }

  /**
   * Where a prompt goes, or undefined when every slot is busy. At least the prompt's last token is
   * left to decode: llama.cpp gives logits only for tokens it decodes.
   *
   * The slot: an idle one this prompt continues (it shares at least half of what the slot holds:
   * the same conversation or document), else an empty one, else the one idle longest. A common
   * chat-template header is not a reason to overwrite another conversation. Then, if any other slot
   * (busy or idle) shares more of the prompt, the chosen slot takes that one's cells.
   */
  place(prompt: readonly number[]): Placement | undefined {
    const reusable = prompt.length - 1;
    const common = this.slots.map((s) => Math.min(commonPrefix(s.tokens, prompt), reusable));
    const idle = this.slots.map((_, i) => i).filter((i) => !this.slots[i]!.busy);
    if (!idle.length) return undefined;
    const continued = idle.filter((i) => common[i]! > 0 && common[i]! * 2 >= this.slots[i]!.tokens.length).sort((a, b) => common[b]! - common[a]!)[0];
    const empty = idle.find((i) => this.slots[i]!.tokens.length === 0);
    const slot = continued ?? empty ?? idle.reduce((a, b) => (this.slots[b]!.lastUsed < this.slots[a]!.lastUsed ? b : a));
    let donor = slot;
    common.forEach((c, i) => {
      if (c > common[donor]!) donor = i;
    });
    return donor === slot ? {slot, keep: common[slot]!} : {slot, keep: common[donor]!, copyFrom: donor};
  }

  /** Marks the slot busy and its tokens as the placement leaves them (after the sequence operations ran). */
  occupy(p: Placement): void {
    const slot = this.slots[p.slot]!;
    const tokens = p.copyFrom === undefined ? slot.tokens.slice(0, p.keep) : this.slots[p.copyFrom]!.tokens.slice(0, p.keep);
    this.setTokens(p.slot, tokens);
    slot.busy = true;
  }

  /** Marks the slot busy holding `tokens` (cells loaded from another worker's state). */
  load(slot: number, tokens: number[]): void {
    this.setTokens(slot, tokens);
    this.slots[slot]!.busy = true;
  }

  /** Tokens decoded into the slot's cells, in order. */
  append(slot: number, tokens: readonly number[]): void {
    const s = this.slots[slot]!;
    if (s.tokens.length + tokens.length > this.capacity) throw new Error(`slot ${slot} would hold ${s.tokens.length + tokens.length} tokens, room for ${this.capacity}`);
    for (const t of tokens) s.tokens.push(t);
    this.addBlocks(s);
  }

  release(slot: number): void {
    const s = this.slots[slot]!;
    s.busy = false;
    s.lastUsed = ++this.tick;
  }

  /** Empties a slot (its cells were dropped, e.g. after a failed step). */
  clear(slot: number): void {
    this.setTokens(slot, []);
  }

  /** The held blocks as stored events, parents first (what a router that subscribes late needs). */
  snapshot(): KvEventData[] {
    const out: KvEventData[] = [];
    const seen = new Set<bigint>();
    for (const s of this.slots) {
      for (const seq of s.blocks) {
        if (seen.has(seq)) continue;
        seen.add(seq);
        const info = this.blockInfo.get(seq)!;
        out.push({type: 'stored', ...(info.parent === undefined ? {} : {parentHash: info.parent}), blocks: [{blockHash: seq, tokensHash: info.local}]});
      }
    }
    return out;
  }

  /** Moves a slot to `tokens`, publishing the blocks that appear or disappear from the cache. */
  private setTokens(slot: number, tokens: number[]): void {
    const s = this.slots[slot]!;
    const full = Math.floor(tokens.length / this.hasher.blockSize);
    // Blocks both hold: the longest common prefix of whole blocks.
    const keptTokens = commonPrefix(s.tokens, tokens);
    const kept = Math.min(Math.floor(keptTokens / this.hasher.blockSize), s.blocks.length, full);
    const removed: bigint[] = [];
    for (const seq of s.blocks.slice(kept).reverse()) {
      const n = this.holders.get(seq)! - 1;
      if (n > 0) this.holders.set(seq, n);
      else {
        this.holders.delete(seq);
        this.blockInfo.delete(seq);
        removed.push(seq);
      }
    }
    if (removed.length) this.onEvent({type: 'removed', blockHashes: removed});
    s.tokens = tokens;
    s.blocks = s.blocks.slice(0, kept);
    this.addBlocks(s);
  }

  /** Registers the slot's full blocks past those it holds, publishing the ones new to the cache. */
  private addBlocks(s: Slot): void {
    const size = this.hasher.blockSize;
    const full = Math.floor(s.tokens.length / size);
    const have = s.blocks.length;
    if (full <= have) return;
    const {local, sequence} = this.hasher.hashAll(s.tokens.slice(have * size, full * size), s.blocks[have - 1]);
    let stored: {blockHash: bigint; tokensHash: bigint}[] = [];
    let parent = s.blocks[have - 1];
    let storedParent = parent;
    const publish = () => {
      if (stored.length) this.onEvent({type: 'stored', ...(storedParent === undefined ? {} : {parentHash: storedParent}), blocks: stored});
      stored = [];
    };
    for (let i = 0; i < sequence.length; i++) {
      const seq = sequence[i]!;
      const n = this.holders.get(seq) ?? 0;
      this.holders.set(seq, n + 1);
      if (n === 0) {
        this.blockInfo.set(seq, {parent, local: local[i]!});
        if (!stored.length) storedParent = parent;
        stored.push({blockHash: seq, tokensHash: local[i]!});
      } else publish(); // a run of new blocks ended at one another slot already holds
      s.blocks.push(seq);
      parent = seq;
    }
    publish();
  }
}
