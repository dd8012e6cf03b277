/**
 * The llama.cpp engine: continuous batching over one llama.cpp context of `sequences` slots.
 *
 * Each step is one llama_decode (off the JS thread) of every running request's next token plus as
 * much waiting prompt as the batch has room for (prompts are prefilled in chunks, decoding never
 * waits for a long prompt to finish). A request that finishes or is cancelled frees its slot at
 * the next step; its tokens stay cached there for the next request sharing a prefix (slots.ts).
 *
 * Token ids in and out, as every engine of the worker (engines/token-io.ts). Sampling is greedy at
 * temperature 0, else temperature/top-p with a per-request PRNG seeded by `seed` (the same seed
 * and batch give the same text).
 */
import type {BlockHasher} from '../../kv/block-hasher.js';
import type {KvEventData} from '../../kv/events.js';
import {prng} from '../../shared/prng.js';
import type {TokenChunk, TokenRequest} from '../token-io.js';
import type {LlamaAddon, LlamaHandle, LlamaModelFacts} from './native.js';
import {type Placement, SlotCache} from './slots.js';

export interface LlamaEngineOptions {
  sequences: number;
  /** Tokens each sequence holds: prompt plus output of one request must fit. */
  contextPerSequence: number;
  batchTokens: number;
  threads: number;
  /** How eagerly idle threads spin for work (0–100). */
  poll?: number;
  hasher: BlockHasher;
  onKvEvent?: (e: KvEventData) => void;
}

export interface LlamaRequest extends TokenRequest {
  id: string;
  /** Prefill of a disaggregated pair: the last chunk carries the sequence's KV state. */
  captureState?: boolean;
  /** Decode of a disaggregated pair: the prompt's KV state from the prefill worker, loaded instead of prefilling. */
  state?: Uint8Array;
  /** The token the prefill worker sampled after that state: the answer's first, decoded next here. */
  stateNext?: number;
}

/** A chunk, and on a prefill's last one the sequence's KV state (`captureState`). */
export interface LlamaChunk extends TokenChunk {
  state?: Buffer;
}

/** The request cannot run as given (its prompt fills a sequence, or names tokens the model lacks): refused before it runs. */
export class ContextLengthError extends Error {}

interface Running {
  req: LlamaRequest;
  slot: number;
  /** Prompt tokens still to decode. */
  pending: number[];
  /** Next position to decode. */
  pos: number;
  /** The last sampled token, decoded at the next step. */
  last: number;
  generated: number;
  cached: number;
  rand: () => number;
  out: LlamaChunk[];
  wake?: () => void;
  cancelled: boolean;
  done: boolean;
  error?: Error;
}

export interface LlamaCounters {
  promptTokens: number;
  generationTokens: number;
  prefixQueryTokens: number;
  prefixHitTokens: number;
  preemptions: number;
  /** Prompt tokens whose KV came from another worker's state instead of a prefill here. */
  transferredTokens: number;
}

export class LlamaEngine {
  readonly slots: SlotCache;
  readonly facts: LlamaModelFacts;
  readonly counters: LlamaCounters = {promptTokens: 0, generationTokens: 0, prefixQueryTokens: 0, prefixHitTokens: 0, preemptions: 0, transferredTokens: 0};
  /** Called after every step (metrics refresh). */
  onStep?: () => void;
  private readonly endOfGeneration: Set<number>;
  private readonly waiting: Running[] = [];
  private readonly running: Running[] = [];
  private looping = false;
  private closed = false;

  private constructor(
    private readonly addon: LlamaAddon,
    private readonly handle: LlamaHandle,
    private readonly opts: LlamaEngineOptions,
  ) {
    this.facts = addon.info(handle);
    this.endOfGeneration = new Set(this.facts.endOfGeneration);
    this.slots = new SlotCache(opts.sequences, opts.contextPerSequence, opts.hasher, opts.onKvEvent);
  }

  static open(addon: LlamaAddon, path: string, opts: LlamaEngineOptions): LlamaEngine {
    const handle = addon.open(path, {contextTokens: opts.sequences * opts.contextPerSequence, sequences: opts.sequences, batchTokens: opts.batchTokens, threads: opts.threads, poll: opts.poll ?? 50});
    return new LlamaEngine(addon, handle, opts);
  }

  get numRunning(): number {
    return this.running.length;
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  /** Requests accepted and not finished. */
  get inFlight(): number {
    return this.running.length + this.waiting.length;
  }

  /** The context's cells counted in KV blocks of the router's size. */
  get blocksTotal(): number {
    return Math.floor((this.opts.sequences * this.opts.contextPerSequence) / this.opts.hasher.blockSize);
  }

  /** Share of the context's cells in use (an upper bound: shared prefixes count per slot). */
  get kvUsage(): number {
    return this.slots.usedTokens / (this.opts.sequences * this.opts.contextPerSequence);
  }

  async *generate(req: LlamaRequest, signal?: AbortSignal): AsyncGenerator<LlamaChunk> {
    if (this.closed) throw new Error('the engine is shut down');
    const room = this.opts.contextPerSequence;
    const bad = req.tokenIds.find((t) => !Number.isInteger(t) || t < 0 || t >= this.facts.vocabSize);
    if (bad !== undefined) throw new ContextLengthError(`token id ${bad} is not in this model's vocabulary (0 to ${this.facts.vocabSize - 1})`);
    if (req.tokenIds.length >= room) throw new ContextLengthError(`the prompt has ${req.tokenIds.length} tokens; a sequence of this worker holds ${room} (prompt and output): shorten the prompt`);
    // Output stops where the sequence is full, as llama.cpp's server caps n_predict.
    const r: Running = {
      req: {...req, maxTokens: Math.min(req.maxTokens, room - req.tokenIds.length)},
      slot: -1,
      pending: [],
      pos: 0,
      last: -1,
      generated: 0,
      cached: 0,
      rand: prng(req.seed ?? Math.floor(Math.random() * 2 ** 32)),
      out: [],
      cancelled: false,
      done: false,
    };
    const cancel = () => {
      r.cancelled = true;
      this.kick();
    };
    signal?.addEventListener('abort', cancel, {once: true});
    this.waiting.push(r);
    this.kick();
    try {
      for (;;) {
        const chunk = r.out.shift();
        if (chunk) {
          yield chunk;
          if (chunk.finishReason) return;
          continue;
        }
        if (r.error) throw r.error;
        if (r.cancelled || r.done) return;
        await new Promise<void>((wake) => {
          r.wake = wake;
        });
      }
    } finally {
      signal?.removeEventListener('abort', cancel);
      if (!r.done) cancel(); // the consumer stopped reading: free the slot
    }
  }

  /** Stops taking requests and frees the context once the running ones are done or cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    for (const r of [...this.waiting, ...this.running]) r.cancelled = true;
    this.kick();
    while (this.looping) await new Promise((resolve) => setTimeout(resolve, 5));
    this.addon.close(this.handle);
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    void this.loop().finally(() => {
      this.looping = false;
      if (this.running.length || this.waiting.length) this.kick();
    });
  }

  private async loop(): Promise<void> {
    for (;;) {
      try {
        this.retire();
        this.admit();
        if (!this.running.length) return;
        await this.step();
        this.onStep?.();
      } catch (e) {
        this.failAll(e as Error);
      }
    }
  }

  /** Something broke between steps: every request in flight fails with it, its cells dropped, and the engine goes on. */
  private failAll(e: Error): void {
    for (const r of this.running.splice(0)) {
      r.error ??= new Error(`llama.cpp engine: ${e.message}`);
      this.dropSlot(r.slot);
      this.finish(r);
    }
  }

  private dropSlot(slot: number): void {
    this.addon.seqRemove(this.handle, slot, 0, -1);
    this.slots.clear(slot);
    this.slots.release(slot);
  }

  /** Frees the slots of requests that finished or were cancelled; drops cancelled waiting ones. */
  private retire(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const r = this.waiting[i]!;
      if (r.cancelled) {
        this.waiting.splice(i, 1);
        this.finish(r);
      }
    }
    for (let i = this.running.length - 1; i >= 0; i--) {
      const r = this.running[i]!;
      if (!r.cancelled && !r.done && !r.error) continue;
      this.running.splice(i, 1);
      // A failed step's cells are not what the slot's tokens say: drop them rather than reuse them.
      if (r.error) this.dropSlot(r.slot);
      else this.slots.release(r.slot);
      this.finish(r);
    }
  }

  private finish(r: Running): void {
    r.done = true;
    r.wake?.();
  }

  private admit(): void {
    while (this.waiting.length) {
      const r = this.waiting[0]!;
      const placement = this.slots.place(r.req.tokenIds);
      if (!placement) return;
      this.waiting.shift();
      // Running before its slot is set up: if that throws, failAll() answers it instead of leaving it waiting.
      r.slot = placement.slot;
      this.running.push(r);
      const keep = r.req.state ? this.loadState(placement.slot, r.req.tokenIds, r.req.state, r.req.stateNext !== undefined) : this.applyPlacement(placement);
      r.pos = keep;
      r.cached = r.req.state ? 0 : keep;
      r.pending = r.req.tokenIds.slice(keep);
      this.counters.prefixQueryTokens += r.req.tokenIds.length;
      this.counters.prefixHitTokens += r.cached;
      this.counters.promptTokens += r.req.tokenIds.length;
      // The whole prompt came with its next token: that token is the answer's first, as it was on
      // the prefill worker, and decoding goes on from it exactly as aggregated serving would.
      if (!r.pending.length && r.req.stateNext !== undefined) this.accept(r, r.req.stateNext);
    }
  }

  /** Runs a placement's sequence operations; returns the prompt tokens already in the slot. */
  private applyPlacement(p: Placement): number {
    let keep = p.keep;
    if (p.copyFrom === undefined) {
      // A model that cannot drop part of a sequence (recurrent, hybrid) starts the slot afresh.
      if (!this.addon.seqRemove(this.handle, p.slot, p.keep, -1)) {
        this.addon.seqRemove(this.handle, p.slot, 0, -1);
        keep = 0;
      }
    } else {
      this.addon.seqRemove(this.handle, p.slot, 0, -1);
      this.addon.seqCopy(this.handle, p.copyFrom, p.slot, 0, p.keep);
    }
    this.slots.occupy({slot: p.slot, keep, ...(keep && p.copyFrom !== undefined ? {copyFrom: p.copyFrom} : {})});
    return keep;
  }

  /**
   * Loads another worker's state of the prompt into the slot; returns the prompt tokens it holds
   * (all of them given the token sampled after them, else all but the last, whose logits this
   * worker computes). A state that does not load or is not a
   * prefix of this prompt is dropped: the prompt is then prefilled here, never decoded on wrong cells.
   */
  private loadState(slot: number, prompt: readonly number[], state: Uint8Array, withNext: boolean): number {
    this.addon.seqRemove(this.handle, slot, 0, -1);
    const held = this.addon.seqStateSet(this.handle, slot, state) > 0 ? this.addon.seqPosMax(this.handle, slot) + 1 : 0;
    // With the prefill's next token the whole prompt is kept; without, its last token is decoded here for its logits.
    const keep = held > 0 && held <= prompt.length ? (withNext && held === prompt.length ? held : Math.min(held, prompt.length - 1)) : 0;
    this.addon.seqRemove(this.handle, slot, keep, -1);
    this.slots.load(slot, prompt.slice(0, keep));
    this.counters.transferredTokens += keep;
    return keep;
  }

  /** One batch: every decoding request's last token, then prompt chunks in arrival order. */
  private async step(): Promise<void> {
    const tokens: number[] = [];
    const positions: number[] = [];
    const seqs: number[] = [];
    const want: number[] = [];
    const sampling: number[] = [];
    const outputs: Running[] = [];
    const fed: {r: Running; tokens: number[]}[] = [];
    const row = (r: Running, token: number, logits: boolean) => {
      tokens.push(token);
      positions.push(r.pos++);
      seqs.push(r.slot);
      want.push(logits ? 1 : 0);
      if (!logits) return;
      outputs.push(r);
      sampling.push(r.req.temperature ?? 1, r.req.topP ?? 1, 0, r.rand());
    };
    for (const r of this.running) {
      if (r.pending.length || r.done || r.cancelled) continue;
      row(r, r.last, true);
      fed.push({r, tokens: [r.last]});
    }
    let budget = this.opts.batchTokens - tokens.length;
    for (const r of this.running) {
      if (!r.pending.length || budget <= 0 || r.cancelled) continue;
      const chunk = r.pending.splice(0, budget);
      budget -= chunk.length;
      for (let i = 0; i < chunk.length; i++) row(r, chunk[i]!, i === chunk.length - 1 && !r.pending.length);
      fed.push({r, tokens: chunk});
    }
    if (!tokens.length) return; // everyone finished at admission (a transferred state and its one token)
    let sampled: Int32Array;
    try {
      sampled = await this.addon.step(this.handle, Int32Array.from(tokens), Int32Array.from(positions), Int32Array.from(seqs), Int8Array.from(want), Float64Array.from(sampling));
    } catch (e) {
      // The batch did not decode: its requests fail, and their slots lose what this step added.
      for (const {r} of fed) {
        r.error = new Error(`llama.cpp: ${(e as Error).message}`);
        r.wake?.();
      }
      return; // retire() drops their slots
    }
    for (const {r, tokens: t} of fed) this.slots.append(r.slot, t);
    for (let i = 0; i < outputs.length; i++) this.accept(outputs[i]!, sampled[i]!);
  }

  private accept(r: Running, token: number): void {
    r.generated++;
    this.counters.generationTokens++;
    r.last = token;
    const chunk: LlamaChunk = {tokenIds: [token]};
    if (r.generated === 1) chunk.cachedTokens = r.cached;
    const stop = !r.req.ignoreEos && this.endOfGeneration.has(token) && r.generated >= (r.req.minTokens ?? 0);
    if (stop) chunk.finishReason = 'stop';
    else if (r.generated >= r.req.maxTokens) chunk.finishReason = 'length';
    // The cells hold the prompt (and all but the last token): what a decode worker continues from.
    if (chunk.finishReason && r.req.captureState) chunk.state = this.addon.seqStateGet(this.handle, r.slot);
    if (chunk.finishReason) r.done = true;
    r.out.push(chunk);
    r.wake?.();
  }
}
