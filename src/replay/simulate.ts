/**
 * Offline replay: a router and N mocker engines on one virtual clock, no HTTP, no timers.
 * Discrete events, in time order: a request arrives (routed at once and queued on its worker), or
 * a worker's engine step ends (its tokens are delivered, the router hears first tokens and
 * finishes, the engine plans its next step). At equal times steps end before arrivals, as an
 * engine hands out its tokens before it looks at new work. KV events go from the engine to the
 * router the moment they happen (a real event plane adds ~1 ms).
 */
import {KvBlockManager} from '../engines/mocker/kv-blocks.js';
import type {PerfModel} from '../engines/mocker/perf-model.js';
import {type BlockPrompt, MockScheduler, type Step} from '../engines/mocker/scheduler.js';
import type {BlockHasher} from '../kv/block-hasher.js';
import type {RequestRouter, WorkerSnapshot} from '../router/policy.js';

export interface EngineSpec {
  numGpuBlocks: number;
  blockSize: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  perf: PerfModel;
}

/**
 * One request to replay: arrival on the virtual clock, its prompt (called when it arrives; it may
 * build the prompt then or hand out one built ahead), and how many tokens it generates.
 */
export interface ReplayRequest {
  arrivalMs: number;
  prompt: () => BlockPrompt;
  outputLength: number;
}

/** Per-request outcome, in arrival order (times in virtual ms). */
export interface ReplayTimeline {
  arrival: Float64Array;
  firstToken: Float64Array;
  finish: Float64Array;
  inputTokens: Uint32Array;
  outputTokens: Uint32Array;
  cachedTokens: Uint32Array;
  promptBlocks: Uint32Array;
  worker: Uint16Array;
}

export interface ReplayRun {
  timeline: ReplayTimeline;
  workerIds: string[];
  /** The load spread is measured over the first this-many workers (the prefill pool when disaggregated); all when unset. */
  balancedWorkers?: number;
  /** Virtual time when the last request finished. */
  endMs: number;
  steps: number;
  preemptions: number;
}

/** One simulated engine: its paged KV, its scheduler, the step it is running and when that step ends. */
export interface SimWorker {
  id: string;
  index: number;
  blocks: KvBlockManager;
  scheduler: MockScheduler;
  step: Step | undefined;
  stepEnd: number;
  inFlight: number;
}

/** A mocker engine whose KV events go straight to `router` (when it listens for them). */
export function simWorker(id: string, index: number, engine: EngineSpec, hasher: BlockHasher, router: RequestRouter): SimWorker {
  const blocks = new KvBlockManager(engine.numGpuBlocks, engine.blockSize, router.eventSink?.(id));
  const scheduler = new MockScheduler({blocks, hasher, maxNumSeqs: engine.maxNumSeqs, maxNumBatchedTokens: engine.maxNumBatchedTokens, perf: engine.perf});
  return {id, index, blocks, scheduler, step: undefined, stepEnd: Number.POSITIVE_INFINITY, inFlight: 0};
}

/** What the router sees of each worker, refreshed in place. */
export function refreshSnapshots(workers: readonly SimWorker[], snapshots: WorkerSnapshot[]): WorkerSnapshot[] {
  for (let k = 0; k < workers.length; k++) {
    snapshots[k]!.inFlight = workers[k]!.inFlight;
    snapshots[k]!.kvUsage = workers[k]!.blocks.usage;
  }
  return snapshots;
}

/** Per-request timeline arrays for `n` requests (times NaN until they happen). */
export function emptyTimeline(n: number): ReplayTimeline {
  return {
    arrival: new Float64Array(n),
    firstToken: new Float64Array(n).fill(Number.NaN),
    finish: new Float64Array(n).fill(Number.NaN),
    inputTokens: new Uint32Array(n),
    outputTokens: new Uint32Array(n),
    cachedTokens: new Uint32Array(n),
    promptBlocks: new Uint32Array(n),
    worker: new Uint16Array(n),
  };
}

export interface ReplayOptions {
  workers: number;
  engine: EngineSpec;
  hasher: BlockHasher;
  router: RequestRouter;
  /** The virtual clock, advanced by the replay (a router with a TTL reads it). */
  clock?: {ms: number};
}

export function replay(requests: readonly ReplayRequest[], opts: ReplayOptions): ReplayRun {
  const {engine, router} = opts;
  const clock = opts.clock ?? {ms: 0};
  const n = requests.length;
  const t = emptyTimeline(n);
  const workers: SimWorker[] = Array.from({length: opts.workers}, (_, index) => simWorker(`worker-${index}`, index, engine, opts.hasher, router));
  const snapshots: WorkerSnapshot[] = workers.map((w) => ({id: w.id, inFlight: 0, kvUsage: 0}));
  const byId = new Map(workers.map((w) => [w.id, w]));
  let steps = 0;
  let endMs = 0;

  const startStep = (w: SimWorker, now: number) => {
    w.step = w.scheduler.schedule();
    w.stepEnd = w.step ? now + w.step.durationMs : Number.POSITIVE_INFINITY;
  };

  let next = 0;
  const endStep = (w: SimWorker) => {
    let now = w.stepEnd;
    clock.ms = now;
    steps++;
    for (const o of w.scheduler.complete(w.step!)) {
      const r = Number(o.id);
      if (o.cachedTokens !== undefined) {
        t.firstToken[r] = now;
        t.cachedTokens[r] = o.cachedTokens;
        router.firstToken(o.id);
      }
      t.outputTokens[r]!++;
      if (o.finish) {
        t.finish[r] = now;
        endMs = Math.max(endMs, now);
        w.inFlight--;
        router.done(o.id);
      }
    }
    // Quiet steps (decode only, changing nothing but token counts) up to the next arrival run at
    // once. Nothing in them reaches the router, and what the router hears from different workers
    // between two arrivals does not depend on their interleaving (per-request and per-worker
    // bookkeeping), so running this worker ahead of the others changes no decision. Their times
    // still add up one step at a time, as separate steps would.
    const quiet = w.scheduler.quietSteps();
    if (quiet > 0) {
      const d = w.scheduler.quietStepMs();
      const limit = next < n ? requests[next]!.arrivalMs : Number.POSITIVE_INFINITY;
      let k = 0;
      while (k < quiet && now + d <= limit) {
        now += d;
        k++;
      }
      if (k) {
        for (const req of w.scheduler.runQuiet(k)) t.outputTokens[Number(req.id)]! += k;
        steps += k;
        clock.ms = now;
      }
    }
    startStep(w, now);
  };

  const arrive = (i: number) => {
    const r = requests[i]!;
    clock.ms = r.arrivalMs;
    const p = r.prompt();
    const id = String(i);
    // The router reads only the prompt's length when it is given the block hashes.
    const decision = router.choose({id, tokens: {length: p.length}, blockHashes: p.blocks}, refreshSnapshots(workers, snapshots));
    const w = byId.get(decision!.workerId)!;
    t.arrival[i] = r.arrivalMs;
    t.inputTokens[i] = p.length;
    t.promptBlocks[i] = p.blocks.keys.length;
    t.worker[i] = w.index;
    w.inFlight++;
    w.scheduler.add({id, prompt: p, maxTokens: r.outputLength, ignoreEos: true, nextToken: () => 1});
    if (!w.step) startStep(w, r.arrivalMs);
  };

  for (;;) {
    let soonest: SimWorker | undefined;
    for (const w of workers) if (w.step && (!soonest || w.stepEnd < soonest.stepEnd)) soonest = w;
    const arrival = next < n ? requests[next]!.arrivalMs : Number.POSITIVE_INFINITY;
    if (soonest && soonest.stepEnd <= arrival) endStep(soonest);
    else if (next < n) arrive(next++);
    else break;
  }
  return {timeline: t, workerIds: workers.map((w) => w.id), endMs, steps, preemptions: workers.reduce((a, w) => a + w.scheduler.counters.preemptions, 0)};
}
