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
import {type BlockList, copyBlocks, emptyBlocks, setBlock} from '../../kv/block-list.js';
import {type KvBlockManager, type SequenceBlocks, blocksOf, chainBlock} from './kv-blocks.js';
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
  blocks: BlockList;
  /** Tokens from `blocks.keys.length × blockSize` on (fewer than a block). */
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
  /** Tokens sampled so far, `output` of them (the sequence is prompt ‖ generated): a plain array, as typed arrays grown by the 100,000 cost more than the tokens. */
  generated: number[];
  promptLength: number;
  promptBlocks: BlockList;
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
  /** In `running` (a flag, so a step's completion need not search the list). */
  running: boolean;
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

  /** tokensOf()'s buffer: one block of tokens. */
  private readonly blockTokens: Uint32Array;

  constructor(private readonly opts: SchedulerOptions) {
    this.blockTokens = new Uint32Array(opts.blocks.blockSize);
  }

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
      blocks: {held: [], partial: 0},
      generated: [],
      promptLength: p.length,
      promptBlocks: blockPrompt ? p.blocks : blocksOf(this.opts.hasher, p),
      promptTail: blockPrompt ? p.tail : p,
      tailFrom: blockPrompt ? p.blocks.keys.length * this.opts.blocks.blockSize : 0,
      computed: 0,
      target: p.length,
      output: 0,
      cachedTokens: 0,
      admittedOnce: false,
      running: false,
      failedAt: -1,
    });
  }

  /** Removes a request wherever it is and frees its blocks. */
  cancel(id: string): boolean {
    for (const q of [this.waiting, this.running]) {
      const i = q.findIndex((s) => s.req.id === id);
      if (i >= 0) {
        const [s] = q.splice(i, 1);
        s!.running = false;
        this.opts.blocks.free(s!.blocks);
        return true;
      }
    }
    return false;
  }

  private preempt(victim: Sequence): void {
    this.running.splice(this.running.indexOf(victim), 1);
    victim.running = false;
    this.opts.blocks.free(victim.blocks);
    victim.computed = 0;
    victim.target = victim.promptLength + Math.max(0, victim.output - 1);
    this.waiting.unshift(victim);
    this.counters.preemptions++;
  }

  /** Blocks of a preempted sequence's computed tokens: its prompt blocks, then the rest hashed on. */
  private resumeBlocks(seq: Sequence): BlockList {
    const bs = this.opts.blocks.blockSize;
    const prompt = seq.promptBlocks;
    const n = prompt.keys.length;
    const out = emptyBlocks(Math.max(n, Math.floor(seq.target / bs)));
    copyBlocks(out, 0, prompt, 0, n);
    for (let i = n; i < out.keys.length; i++) {
      const b = chainBlock(this.opts.hasher, i ? out.sequence[i - 1] : undefined, this.tokensOf(seq, i * bs));
      setBlock(out, i, b.local, b.sequence);
    }
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
      seq.running = true;
      const n = Math.min(seq.target - seq.computed, budget);
      prefill.push({seq, tokens: n});
      budget -= n;
    }

    if (!prefill.length && !decode.length) return undefined;
    const prefillTokens = maxNumBatchedTokens - budget - decode.length;
    const durationMs = this.opts.perf.prefillMs(prefillTokens) + (decode.length ? this.opts.perf.decodeMs(blocks.usage) : 0);
    return {prefill, decode, prefillTokens, durationMs};
  }

  /**
   * How many coming steps are quiet: decode steps of every running sequence that change nothing
   * but token counts (nothing waits or prefills; no sequence finishes, fills its last block or
   * needs a new one; the KV usage, hence the step time, stays put). A simulator may run them at
   * once (`runQuiet`) instead of one schedule()/complete() pair each. 0 when the next step is not.
   */
  quietSteps(): number {
    if (this.waiting.length || !this.running.length || this.running.length > this.opts.maxNumBatchedTokens) return 0;
    const bs = this.opts.blocks.blockSize;
    let n = Number.POSITIVE_INFINITY;
    for (const seq of this.running) {
      if (seq.computed < seq.target) return 0;
      if (!seq.req.ignoreEos && seq.req.eosTokenId !== undefined) return 0; // any token may stop it
      // At computed % bs = 0 the step takes a new block (reserveSlot); at bs − 1 it fills one (promote).
      const c = seq.computed % bs;
      if (c === 0) return 0;
      n = Math.min(n, bs - 1 - c, seq.req.maxTokens - seq.output - 1);
    }
    return Math.max(0, n);
  }

  /** The modelled duration of each quiet step (what schedule() gives such a step). */
  quietStepMs(): number {
    return this.opts.perf.prefillMs(0) + this.opts.perf.decodeMs(this.opts.blocks.usage);
  }

  /** Runs `n` ≤ quietSteps() quiet steps at once; returns the requests that got `n` tokens each (every running one). */
  runQuiet(n: number): MockRequest[] {
    const reqs: MockRequest[] = [];
    this.quiet(n, (seq) => reqs.push(seq.req));
    return reqs;
  }

  /** As runQuiet, with every token it produced, in order per request (none is a first or a last token). */
  runQuietTokens(n: number): TokenOutput[] {
    const out: TokenOutput[] = [];
    this.quiet(n, (seq, from) => {
      for (let i = from; i < seq.generated.length; i++) out.push({id: seq.req.id, token: seq.generated[i]!, cachedTokens: undefined, finish: undefined});
    });
    return out;
  }

  /** `n` quiet steps; `each` hears every running sequence after its tokens, with where they start in `generated`. */
  private quiet(n: number, each: (seq: Sequence, from: number) => void): void {
    for (const seq of this.running) {
      const from = seq.generated.length;
      for (let i = 0; i < n; i++) seq.generated.push(seq.req.nextToken());
      seq.computed += n;
      seq.output += n;
      each(seq, from);
    }
    this.counters.generationTokens += n * this.running.length;
  }

  complete(step: Step): TokenOutput[] {
    const out: TokenOutput[] = [];
    const bs = this.opts.blocks.blockSize;
    const hasher = this.opts.hasher;
    for (const {seq, tokens} of step.prefill) {
      if (!seq.running) continue; // cancelled during the step
      seq.computed += tokens;
      this.counters.promptTokens += tokens;
      if (seq.computed === seq.target && seq.output === 0) out.push(this.sample(seq, true));
    }
    for (const seq of step.decode) {
      if (!seq.running) continue;
      seq.computed++;
      if (seq.computed % bs === 0) {
        this.opts.blocks.promote(seq.blocks, chainBlock(hasher, this.opts.blocks.lastSequenceHash(seq.blocks), this.tokensOf(seq, seq.computed - bs)));
      }
      out.push(this.sample(seq, false));
    }
    return out;
  }

  /**
   * The block of prompt ‖ generated from token `from` (never before the prompt's tail when it came
   * as blocks), in a reused buffer: the hashers copy what they are given.
   */
  private tokensOf(seq: Sequence, from: number): Uint32Array {
    const out = this.blockTokens;
    for (let i = from; i < from + out.length; i++) out[i - from] = i < seq.promptLength ? seq.promptTail[i - seq.tailFrom]! : seq.generated[i - seq.promptLength]!;
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
      seq.running = false;
      this.opts.blocks.free(seq.blocks);
    }
    // One shape for every output (spreading optional fields in costs more than the rest of a token).
    return {id: seq.req.id, token, cachedTokens: first ? seq.cachedTokens : undefined, finish};
  }
}
