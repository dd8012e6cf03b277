/**
 * vLLM-v1-style continuous batching, as a pure state machine (no clock, no IO):
 * each step spends a token budget (`maxNumBatchedTokens`) first on running sequences — a chunk of
 * a pending prefill, or one decode token — then admits waiting requests while fewer than
 * `maxNumSeqs` run and their blocks fit. Prefill is chunked across steps. When a decode needs a
 * block and none can be freed, the most recently admitted sequence is preempted (LIFO): its
 * blocks are released and it is recomputed later. `schedule()` returns a step with its modelled
 * duration; `complete()` applies it and returns the tokens it produced.
 */
import type {BlockHasher} from '../../kv/block-hasher.js';
import {type Block, type KvBlockManager, type SequenceBlocks, blocksOf, chainBlock} from './kv-blocks.js';
import type {PerfModel} from './perf-model.js';

export interface MockRequest {
  id: string;
  /** The prompt's tokens, or (trace replay) its memoized full blocks and the tokens after them. */
  prompt: ArrayLike<number> | BlockPrompt;
  maxTokens: number;
  /** Draws the next output token (deterministic per request). */
  nextToken(): number;
  eosTokenId?: number;
  ignoreEos?: boolean;
}

/** A prompt given as its full blocks plus the tokens after the last of them. */
export interface BlockPrompt {
  length: number;
  blocks: Block[];
  /** Tokens from `blocks.length × blockSize` on (fewer than a block). */
  tail: ArrayLike<number>;
}

const isBlockPrompt = (p: MockRequest['prompt']): p is BlockPrompt => 'blocks' in p;

export type FinishReason = 'length' | 'stop';

export interface TokenOutput {
  id: string;
  token: number;
  /** Set on the first token: prompt tokens served from the prefix cache. */
  cachedTokens?: number;
  finish?: FinishReason;
}

interface Sequence {
  req: MockRequest;
  blocks: SequenceBlocks;
  /** Tokens sampled so far (the sequence is prompt ‖ generated). */
  generated: number[];
  promptLength: number;
  promptBlocks: Block[];
  /** Prompt tokens from `tailFrom` on (all of them for a token prompt). */
  promptTail: ArrayLike<number>;
  tailFrom: number;
  /** Tokens whose KV is computed. */
  computed: number;
  /** Tokens to compute before decoding (prompt, or prompt + output after a preemption). */
  target: number;
  output: number;
  cachedTokens: number;
  admittedOnce: boolean;
  /** `blocks.releases` when its blocks last did not fit: no retry until space is released. */
  failedAt: number;
}

export interface Step {
  prefill: {seq: Sequence; tokens: number}[];
  decode: Sequence[];
  prefillTokens: number;
  /** Modelled duration of the step (before any speedup). */
  durationMs: number;
}

export interface SchedulerOptions {
  blocks: KvBlockManager;
  /** Must hash in blocks of `blocks.blockSize`. */
  hasher: BlockHasher;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  perf: PerfModel;
  enableChunkedPrefill?: boolean;
}

export interface SchedulerCounters {
  prefixQueryTokens: number;
  prefixHitTokens: number;
  promptTokens: number;
  generationTokens: number;
  preemptions: number;
}

export class MockScheduler {
  private readonly waiting: Sequence[] = [];
  private readonly running: Sequence[] = [];
  readonly counters: SchedulerCounters = {prefixQueryTokens: 0, prefixHitTokens: 0, promptTokens: 0, generationTokens: 0, preemptions: 0};

  constructor(private readonly opts: SchedulerOptions) {}

  get numRunning(): number {
    return this.running.length;
  }
  get numWaiting(): number {
    return this.waiting.length;
  }
  get idle(): boolean {
    return !this.running.length && !this.waiting.length;
  }

  add(req: MockRequest): void {
    const p = req.prompt;
    const blockPrompt = isBlockPrompt(p);
    this.waiting.push({
      req,
      blocks: {blocks: [], partial: 0},
      generated: [],
      promptLength: p.length,
      promptBlocks: blockPrompt ? p.blocks : blocksOf(this.opts.hasher, p),
      promptTail: blockPrompt ? p.tail : p,
      tailFrom: blockPrompt ? p.blocks.length * this.opts.blocks.blockSize : 0,
      computed: 0,
      target: p.length,
      output: 0,
      cachedTokens: 0,
      admittedOnce: false,
      failedAt: -1,
    });
  }

  /** Removes a request wherever it is and frees its blocks. */
  cancel(id: string): boolean {
    for (const q of [this.waiting, this.running]) {
      const i = q.findIndex((s) => s.req.id === id);
      if (i >= 0) {
        const [s] = q.splice(i, 1);
        this.opts.blocks.free(s!.blocks);
        return true;
      }
    }
    return false;
  }

  private preempt(victim: Sequence): void {
    this.running.splice(this.running.indexOf(victim), 1);
    this.opts.blocks.free(victim.blocks);
    victim.computed = 0;
    victim.target = victim.promptLength + Math.max(0, victim.output - 1);
    this.waiting.unshift(victim);
    this.counters.preemptions++;
  }

  /** Blocks of a preempted sequence's computed tokens: its prompt blocks, then the rest hashed on. */
  private resumeBlocks(seq: Sequence): Block[] {
    const bs = this.opts.blocks.blockSize;
    const out = seq.promptBlocks.slice();
    for (let at = out.length * bs; at + bs <= seq.target; at += bs) out.push(chainBlock(this.opts.hasher, out.at(-1), tokensOf(seq, at, at + bs)));
    return out;
  }

  schedule(): Step | undefined {
    const {blocks, maxNumBatchedTokens, maxNumSeqs} = this.opts;
    const chunked = this.opts.enableChunkedPrefill ?? true;
    let budget = maxNumBatchedTokens;
    const prefill: Step['prefill'] = [];
    const decode: Sequence[] = [];

    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i]!;
      if (seq.computed < seq.target) {
        const n = Math.min(seq.target - seq.computed, budget);
        prefill.push({seq, tokens: n});
        budget -= n;
        continue;
      }
      // Decode: the last sampled token needs a KV slot; preempt from the tail until it has one.
      let ok = blocks.reserveSlot(seq.blocks, seq.computed);
      while (!ok) {
        const victim = this.running.at(-1)!;
        this.preempt(victim);
        if (victim === seq) break;
        ok = blocks.reserveSlot(seq.blocks, seq.computed);
      }
      if (!ok) {
        i--; // seq was removed from running
        continue;
      }
      decode.push(seq);
      budget -= 1;
    }

    while (this.waiting.length && this.running.length < maxNumSeqs && budget > 0) {
      const seq = this.waiting[0]!;
      const resume = seq.output > 0;
      if (!chunked && seq.target > budget) break;
      if (seq.failedAt === blocks.releases) break;
      const hit = blocks.allocate(seq.blocks, resume ? this.resumeBlocks(seq) : seq.promptBlocks, seq.target);
      if (hit < 0) {
        seq.failedAt = blocks.releases;
        break;
      }
      this.waiting.shift();
      // At least one token is always computed, so a fully cached prompt still yields a token.
      seq.computed = Math.min(hit * blocks.blockSize, seq.target - 1);
      if (!seq.admittedOnce) {
        seq.admittedOnce = true;
        seq.cachedTokens = seq.computed;
        this.counters.prefixQueryTokens += seq.promptLength;
        this.counters.prefixHitTokens += seq.computed;
      }
      this.running.push(seq);
      const n = Math.min(seq.target - seq.computed, budget);
      prefill.push({seq, tokens: n});
      budget -= n;
    }

    if (!prefill.length && !decode.length) return undefined;
    const prefillTokens = prefill.reduce((a, p) => a + p.tokens, 0);
    const durationMs = this.opts.perf.prefillMs(prefillTokens) + (decode.length ? this.opts.perf.decodeMs(blocks.usage) : 0);
    return {prefill, decode, prefillTokens, durationMs};
  }

  complete(step: Step): TokenOutput[] {
    const out: TokenOutput[] = [];
    const bs = this.opts.blocks.blockSize;
    const hasher = this.opts.hasher;
    for (const {seq, tokens} of step.prefill) {
      if (!this.running.includes(seq)) continue; // cancelled during the step
      seq.computed += tokens;
      this.counters.promptTokens += tokens;
      if (seq.computed === seq.target && seq.output === 0) out.push(this.sample(seq, true));
    }
    for (const seq of step.decode) {
      if (!this.running.includes(seq)) continue;
      seq.computed++;
      if (seq.computed % bs === 0) {
        this.opts.blocks.promote(seq.blocks, chainBlock(hasher, seq.blocks.blocks.at(-1), tokensOf(seq, seq.computed - bs, seq.computed)));
      }
      out.push(this.sample(seq, false));
    }
    return out;
  }

  private sample(seq: Sequence, first: boolean): TokenOutput {
    const token = seq.req.nextToken();
    seq.generated.push(token);
    seq.output++;
    this.counters.generationTokens++;
    let finish: FinishReason | undefined;
    if (token === seq.req.eosTokenId && !seq.req.ignoreEos) finish = 'stop';
    else if (seq.output >= seq.req.maxTokens) finish = 'length';
    if (finish) {
      this.running.splice(this.running.indexOf(seq), 1);
      this.opts.blocks.free(seq.blocks);
    }
    return {id: seq.req.id, token, ...(first ? {cachedTokens: seq.cachedTokens} : {}), ...(finish ? {finish} : {})};
  }
}

/** Tokens [from, to) of prompt ‖ generated (never before the prompt's tail when it came as blocks). */
function tokensOf(seq: Sequence, from: number, to: number): number[] {
  const out = new Array<number>(to - from);
  for (let i = from; i < to; i++) out[i - from] = i < seq.promptLength ? seq.promptTail[i - seq.tailFrom]! : seq.generated[i - seq.promptLength]!;
  return out;
}
