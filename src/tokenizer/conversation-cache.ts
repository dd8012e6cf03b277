/**
 * The tokenizer's prefix cache, per model: what a conversation's last prompt leaves for its next
 * turn, which repeats every earlier message: the chat template's loop checkpoints (the render
 * resumes) and the prompt's ids up to its last added token (only the new suffix is encoded).
 * Keyed by a content hash of the messages so far (and of what else the template reads: tools,
 * options), looked up for the longest earlier prefix of a request's messages; bounded by tokens,
 * least recently used first out. Both reuses are checked where they are used (the render compares
 * the loop's starting state, the encoder compares the text), so a stale entry costs a miss, never
 * a wrong prompt.
 */
import {GenerationalCache} from '../shared/generational-cache.js';
import type {LoopCheckpoint} from './incremental-template.js';
import type {EncodedPrefix} from './encoder.js';

export interface ConversationState {
  checkpoints: readonly (LoopCheckpoint | undefined)[];
  prefix?: EncodedPrefix;
}

/** 53-bit string hash (two multiplicative 32-bit lanes), chained through `seed`: the fallback outside Bun. */
function hash53(s: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const wyhash = (globalThis as {Bun?: {hash: {wyhash(s: string, seed: number): bigint}}}).Bun?.hash.wyhash;

/**
 * A string's 53-bit hash chained through `seed`. In the binary Bun's native wyhash: a turn hashes
 * the whole conversation again, which in JS cost ~5 % of the frontend's CPU on multi-turn chat.
 * Keys only live in this process, so the two functions never meet; a collision costs a miss.
 */
const hashString: (s: string, seed: number) => number = wyhash ? (s, seed) => Number(BigInt.asUintN(53, wyhash(s, seed))) : hash53;

/** A message's identity: role and text hashed directly for the common shape, its JSON otherwise. */
function hashMessage(m: unknown, seed: number): number {
  const o = m as {role?: unknown; content?: unknown};
  if (typeof o.role === 'string' && typeof o.content === 'string' && Object.keys(o).length === 2) return hashString(o.content, hashString(o.role, seed));
  return hashString(JSON.stringify(m), seed);
}

/** The hash of each prefix of `messages`: [0] covers none of them (the context alone), [k] the first k. */
export function conversationHashes(messages: readonly unknown[], context: unknown): number[] {
  const out = [hashString(JSON.stringify(context) ?? '', 0)];
  for (const m of messages) out.push(hashMessage(m, out.at(-1)!));
  return out;
}

export class ConversationCache {
  private readonly entries: GenerationalCache<number, ConversationState>;

  constructor(maxTokens = 2_000_000) {
    this.entries = new GenerationalCache(maxTokens, sizeOf);
  }

  /** The state of the longest strict prefix of the conversation (hashes from `conversationHashes`) that has one. */
  longest(hashes: readonly number[]): ConversationState | undefined {
    for (let k = hashes.length - 2; k >= 1; k--) {
      const hit = this.entries.get(hashes[k]!);
      if (hit) return hit;
    }
    return undefined;
  }

  set(hash: number, state: ConversationState): void {
    this.entries.set(hash, state);
  }
}

/** An entry's weight: its tokens, plus its rendered text counted as tokens of ~4 characters. */
function sizeOf(s: ConversationState): number {
  let chars = s.prefix?.text.length ?? 0;
  for (const c of s.checkpoints) chars += c?.output.length ?? 0;
  return (s.prefix?.ids.length ?? 0) + Math.ceil(chars / 4) + 1;
}
