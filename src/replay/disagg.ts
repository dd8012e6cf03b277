/**
 * Offline disaggregated serving: P prefill and D decode mocker engines on one virtual clock, pure
 * (no IO, no timers), beside the aggregated `replay()` in simulate.ts and built from the same parts.
 *
 * Per request, as in Dynamo's conditional disaggregation (the decode worker owns the request):
 * 1. The decode router (KV-aware over the decode pool) picks a decode worker D.
 * 2. Uncached = prompt tokens beyond the prefix D already caches. Uncached ≤ maxLocalPrefillTokens:
 *    D prefills and decodes it itself, exactly like an aggregated engine.
 * 3. Otherwise the prefill router picks a prefill worker P, which computes the prompt (its own prefix
 *    cache applies) and samples the first token: that is the client's first token (TTFT).
 * 4. The request then waits until D can take it, as a decode engine pulls KV only into blocks it has
 *    allocated (vLLM's NIXL connector): D has no request waiting, a free batch slot, and blocks for
 *    the prompt. D takes those blocks (its cached prefix is shared, not sent), and the rest of the
 *    prompt's KV crosses the link: bytes = tokens × kvBytesPerToken, in latency + bytes / bandwidth,
 *    after the previous transfer into the same D (one link per decode worker).
 * 5. On landing the request joins D's scheduler for the rest of its output. The step that admits it
 *    computes nothing for it but the last prompt token's attention, which rides in the batch like a
 *    decode token.
 * Simplification: P releases the prompt's blocks at the first token (they stay in its prefix cache,
 * so the data is there for the transfer); transfers into different decode workers never contend.
 */
import type {SequenceBlocks} from '../engines/mocker/kv-blocks.js';
import type {BlockPrompt} from '../engines/mocker/scheduler.js';
import type {BlockHasher} from '../kv/block-hasher.js';
import type {RequestRouter, WorkerSnapshot} from '../router/policy.js';
import {type EngineSpec, type ReplayRequest, type ReplayRun, type SimWorker, emptyTimeline, refreshSnapshots, simWorker} from './simulate.js';

/** The link KV crosses from a prefill to a decode worker. */
export interface KvLink {
  /** Bandwidth in GB/s (10⁹ bytes per second). */
  gbps: number;
  /** Fixed cost of each transfer (setup, notification), in ms. */
  latencyMs: number;
}

/** How long `bytes` of KV take over `link`, in ms. */
export function transferMs(bytes: number, link: KvLink): number {
  return link.latencyMs + bytes / (link.gbps * 1e6);
}

export interface DisaggOptions {
  prefillWorkers: number;
  decodeWorkers: number;
  engine: EngineSpec;
  hasher: BlockHasher;
  /** Routes over the prefill pool (hears the prefill engines' KV events). */
  prefillRouter: RequestRouter;
  /** Routes over the decode pool (hears the decode engines' KV events). */
  decodeRouter: RequestRouter;
  link: KvLink;
  /** KV bytes of one token over all layers (2 × layers × kv heads × head dim × dtype bytes). */
  kvBytesPerToken: number;
  /** Prompts with at most this many tokens uncached on the decode worker are prefilled there. */
  maxLocalPrefillTokens: number;
  clock?: {ms: number};
}

export interface TransferTotals {
  /** Requests whose KV crossed the link. */
  count: number;
  bytes: number;
  tokens: number;
  /** Prompt tokens not sent because the decode worker already cached them. */
  skippedTokens: number;
  /** Sum over transfers of transfer start → KV landed (link queueing included). */
  transferMs: number;
  /** Sum over transfers of first token → transfer start (waiting for the decode worker's room). */
  waitMs: number;
  /** Requests prefilled on their decode worker (conditional disaggregation). */
  localPrefills: number;
}

export interface DisaggRun extends ReplayRun {
  transfers: TransferTotals;
}

interface DecodeWorker extends SimWorker {
  /** When its link finishes the transfers already under way. */
  linkFreeAt: number;
  /** Prefilled requests waiting for room here, in prefill order. */
  ready: number[];
  /** Requests whose KV is on the way or landed but not yet admitted (they hold blocks and a batch slot). */
  incoming: number;
  /** Of those, the ones landed (queued in the scheduler). */
  landed: number;
}

interface Transfer {
  request: number;
  landsAt: number;
}

export function replayDisagg(requests: readonly ReplayRequest[], opts: DisaggOptions): DisaggRun {
  const {engine, prefillRouter, decodeRouter} = opts;
  const clock = opts.clock ?? {ms: 0};
  const n = requests.length;
  const t = emptyTimeline(n);
  const prefill = Array.from({length: opts.prefillWorkers}, (_, i) => simWorker(`prefill-${i}`, i, engine, opts.hasher, prefillRouter));
  const decode: DecodeWorker[] = Array.from({length: opts.decodeWorkers}, (_, i) => ({
    ...simWorker(`decode-${i}`, opts.prefillWorkers + i, engine, opts.hasher, decodeRouter),
    linkFreeAt: 0,
    ready: [],
    incoming: 0,
    landed: 0,
  }));
  const prefillSnapshots: WorkerSnapshot[] = prefill.map((w) => ({id: w.id, inFlight: 0, kvUsage: 0}));
  const decodeSnapshots: WorkerSnapshot[] = decode.map((w) => ({id: w.id, inFlight: 0, kvUsage: 0}));
  const prefillById = new Map(prefill.map((w) => [w.id, w]));
  const decodeById = new Map(decode.map((w) => [w.id, w]));
  /** Each request's decode worker. */
  const owner: DecodeWorker[] = new Array(n);
  /** Prompts of requests between arrival and their KV landing (only those hold one here). */
  const prompts = new Map<number, BlockPrompt>();
  /** When each prefilled request's first token came. */
  const prefilledAt = new Float64Array(n);
  /** Decode worker blocks receiving a request's KV, held until the scheduler admits the request. */
  const receiving = new Map<string, SequenceBlocks>();
  const pending: Transfer[] = [];
  const totals: TransferTotals = {count: 0, bytes: 0, tokens: 0, skippedTokens: 0, transferMs: 0, waitMs: 0, localPrefills: 0};
  let steps = 0;
  let endMs = 0;

  const finish = (r: number, now: number) => {
    t.finish[r] = now;
    endMs = now;
    owner[r]!.inFlight--;
    decodeRouter.done(String(r));
  };

  const startStep = (w: SimWorker, now: number) => {
    w.step = w.scheduler.schedule();
    w.stepEnd = w.step ? now + w.step.durationMs : Number.POSITIVE_INFINITY;
  };

  /** A decode worker's step: requests whose KV landed cost no prefill, only their last prompt token in the batch. */
  const startDecodeStep = (w: DecodeWorker, now: number) => {
    startStep(w, now);
    const step = w.step;
    if (!step) return;
    let loaded = 0;
    for (const {seq, tokens} of step.prefill) {
      const held = receiving.get(seq.req.id);
      if (!held) continue;
      loaded += tokens;
      receiving.delete(seq.req.id);
      w.incoming--;
      w.landed--;
      w.blocks.free(held); // the scheduler now holds the same blocks
    }
    if (!loaded) return;
    step.durationMs = engine.perf.prefillMs(step.prefillTokens - loaded) + engine.perf.decodeMs(w.blocks.usage);
    w.stepEnd = now + step.durationMs;
  };

  const endPrefillStep = (w: SimWorker) => {
    const now = w.stepEnd;
    clock.ms = now;
    steps++;
    for (const o of w.scheduler.complete(w.step!)) {
      const r = Number(o.id);
      // A prefill request asks for one token: this is its first and its last.
      t.firstToken[r] = now;
      t.cachedTokens[r] = o.cachedTokens ?? 0;
      t.outputTokens[r]!++;
      w.inFlight--;
      prefillRouter.firstToken(o.id);
      prefillRouter.done(o.id);
      if (requests[r]!.outputLength <= 1) {
        prompts.delete(r);
        finish(r, now);
        continue;
      }
      const d = owner[r]!;
      prefilledAt[r] = now;
      d.ready.push(r);
      startTransfers(d, now);
    }
    startStep(w, now);
  };

  /** Starts the transfers a decode worker has room for, in prefill order. */
  const startTransfers = (d: DecodeWorker, now: number) => {
    let taken = 0;
    // Requests queued there for other reasons (local prefills, preempted ones) go first.
    while (taken < d.ready.length && d.scheduler.numWaiting === d.landed && d.scheduler.numRunning + d.incoming < engine.maxNumSeqs) {
      const r = d.ready[taken]!;
      const p = prompts.get(r)!;
      const held: SequenceBlocks = {held: [], partial: 0};
      const cachedBlocks = d.blocks.allocate(held, p.blocks, p.blocks.keys.length * engine.blockSize);
      if (cachedBlocks < 0) break; // no room yet: a finishing request will make some
      taken++;
      d.incoming++;
      receiving.set(String(r), held);
      const skipped = Math.min(p.length, cachedBlocks * engine.blockSize);
      const tokens = p.length - skipped;
      const bytes = tokens * opts.kvBytesPerToken;
      const landsAt = Math.max(now, d.linkFreeAt) + transferMs(bytes, opts.link);
      d.linkFreeAt = landsAt;
      totals.count++;
      totals.bytes += bytes;
      totals.tokens += tokens;
      totals.skippedTokens += skipped;
      totals.waitMs += now - prefilledAt[r]!;
      totals.transferMs += landsAt - now;
      pending.push({request: r, landsAt});
    }
    if (taken) d.ready.splice(0, taken);
  };

  const land = (x: Transfer) => {
    const r = x.request;
    const d = owner[r]!;
    clock.ms = x.landsAt;
    const p = prompts.get(r)!;
    prompts.delete(r);
    d.landed++;
    d.scheduler.add({id: String(r), prompt: p, maxTokens: requests[r]!.outputLength - 1, ignoreEos: true, nextToken: () => 1});
    if (!d.step) startDecodeStep(d, x.landsAt);
  };

  const endDecodeStep = (w: DecodeWorker) => {
    const now = w.stepEnd;
    clock.ms = now;
    steps++;
    for (const o of w.scheduler.complete(w.step!)) {
      const r = Number(o.id);
      const local = Number.isNaN(t.firstToken[r]!);
      if (o.cachedTokens !== undefined && local) {
        t.firstToken[r] = now;
        t.cachedTokens[r] = o.cachedTokens;
        decodeRouter.firstToken(o.id);
      }
      t.outputTokens[r]!++;
      if (o.finish) finish(r, now);
    }
    startDecodeStep(w, now);
    if (w.ready.length) startTransfers(w, now);
  };

  const arrive = (i: number) => {
    const r = requests[i]!;
    const now = r.arrivalMs;
    clock.ms = now;
    const p = r.prompt();
    const id = String(i);
    const d = decodeById.get(decodeRouter.choose({id, tokens: {length: p.length}, blockHashes: p.blocks}, refreshSnapshots(decode, decodeSnapshots))!.workerId)!;
    owner[i] = d;
    d.inFlight++;
    t.arrival[i] = now;
    t.inputTokens[i] = p.length;
    t.promptBlocks[i] = p.blocks.keys.length;
    const uncached = p.length - Math.min(p.length, d.blocks.cachedPrefix(p.blocks) * engine.blockSize);
    if (uncached <= opts.maxLocalPrefillTokens) {
      totals.localPrefills++;
      t.worker[i] = d.index;
      d.scheduler.add({id, prompt: p, maxTokens: r.outputLength, ignoreEos: true, nextToken: () => 1});
      if (!d.step) startDecodeStep(d, now);
      return;
    }
    // Prefilled elsewhere: the decode worker will not compute this prompt, so it is no pending prefill load there.
    decodeRouter.firstToken(id);
    const w = prefillById.get(prefillRouter.choose({id, tokens: {length: p.length}, blockHashes: p.blocks}, refreshSnapshots(prefill, prefillSnapshots))!.workerId)!;
    w.inFlight++;
    t.worker[i] = w.index;
    prompts.set(i, p);
    w.scheduler.add({id, prompt: p, maxTokens: 1, ignoreEos: true, nextToken: () => 1});
    if (!w.step) startStep(w, now);
  };

  /** The transfer landing first (the earliest started on ties), or -1. */
  const nextLanding = (): number => {
    let best = -1;
    for (let k = 0; k < pending.length; k++) if (best < 0 || pending[k]!.landsAt < pending[best]!.landsAt) best = k;
    return best;
  };

  // At equal times: steps end (prefill pool first), then transfers land, then requests arrive.
  let next = 0;
  for (;;) {
    let soonest: SimWorker | undefined;
    for (const w of prefill) if (w.step && (!soonest || w.stepEnd < soonest.stepEnd)) soonest = w;
    for (const w of decode) if (w.step && (!soonest || w.stepEnd < soonest.stepEnd)) soonest = w;
    const k = nextLanding();
    const landsAt = k >= 0 ? pending[k]!.landsAt : Number.POSITIVE_INFINITY;
    const arrival = next < n ? requests[next]!.arrivalMs : Number.POSITIVE_INFINITY;
    if (soonest && soonest.stepEnd <= landsAt && soonest.stepEnd <= arrival) {
      if (soonest.index < opts.prefillWorkers) endPrefillStep(soonest);
      else endDecodeStep(soonest as DecodeWorker);
    } else if (k >= 0 && landsAt <= arrival) land(pending.splice(k, 1)[0]!);
    else if (next < n) arrive(next++);
    else break;
  }
  const all = [...prefill, ...decode];
  return {
    timeline: t,
    workerIds: all.map((w) => w.id),
    balancedWorkers: opts.prefillWorkers,
    endMs,
    steps,
    preemptions: all.reduce((a, w) => a + w.scheduler.counters.preemptions, 0),
    transfers: totals,
  };
}
