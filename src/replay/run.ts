/**
 * `dynamo replay`: loads a trace, then replays it once per router on identical engines and
 * reports each run side by side. The prompts (block hashes memoized per trace hash id, the few
 * tokens after the last full block) are built while preparing and shared by all runs; each run's
 * wall time covers the simulation only (preparation, hashing included, is timed apart: `prepareS`).
 * With disaggregation, every prefill/decode split is replayed too, once per router, after the
 * aggregated runs (which stay exactly what they are without it); with goodput SLOs, the
 * configuration that meets them with the fewest workers is named (`fewestWorkersMeeting`).
 */
import {readFileSync} from 'node:fs';
import {UserError} from '../shared/errors.js';
import type {ModelInfo} from '../config/models.js';
import {native} from '../native/index.js';
import {kvCapacity} from '../engines/mocker/capacity.js';
import {type GpuKind, modelScale, polynomialModel} from '../engines/mocker/perf-model.js';
import {prng} from '../shared/prng.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {KvRouter} from '../router/kv-router.js';
import {type RequestRouter, policyRouter} from '../router/policy.js';
import {RandomPolicy} from '../router/random.js';
import {RoundRobinPolicy} from '../router/round-robin.js';
import {type ReplayReport, type ReplaySlos, reportReplay} from './report.js';
import {type EngineSpec, type ReplayRequest, replay} from './simulate.js';
import {replayDisagg} from './disagg.js';
import {parseMooncakeTrace} from '../traces/mooncake.js';
import {TracePrompts} from './trace-prompts.js';
import type {ReplayRouterMode} from './options.js';


export interface ReplaySettings {
  trace: string;
  traceBlockSize: number;
  /** Arrivals are compressed by this factor (2 = twice the request rate). */
  speedup: number;
  workers: number;
  routers: ReplayRouterMode[];
  model: ModelInfo;
  gpu: GpuKind;
  gpuMemoryGb: number;
  blockSize: number;
  numGpuBlocks?: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  overlapWeight: number;
  temperature: number;
  ttlSecs: number;
  maxTreeSize: number;
  pruneTargetRatio: number;
  seed: number;
  disagg?: DisaggSettings | undefined;
  goodput?: GoodputSettings | undefined;
}

export interface DisaggSettings {
  /** Each split is replayed: `prefill` prefill workers and `decode` decode workers. */
  splits: {prefill: number; decode: number}[];
  linkGbps: number;
  transferLatencyMs: number;
  /** Conditional disaggregation: at most this many uncached prompt tokens are prefilled on the decode worker. */
  maxLocalPrefillTokens: number;
}

export interface GoodputSettings {
  slos: ReplaySlos;
  /** A configuration meets the SLOs when at least this fraction of its requests meets all of them. */
  minFraction: number;
}

/** How the workers of a run serve: all alike (aggregated) or split into prefill and decode pools. */
export type ReplayConfig = {kind: 'aggregated'; workers: number} | {kind: 'disaggregated'; prefill: number; decode: number};

export const configWorkers = (c: ReplayConfig): number => (c.kind === 'aggregated' ? c.workers : c.prefill + c.decode);
/** "8" or "2P+6D". */
export const configLabel = (c: ReplayConfig): string => (c.kind === 'aggregated' ? String(c.workers) : `${c.prefill}P+${c.decode}D`);

export interface ReplayRunResult {
  router: ReplayRouterMode;
  config: ReplayConfig;
  report: ReplayReport;
  wallS: number;
  /** Simulated seconds per wall-clock second. */
  speed: number;
}

export interface ReplayOutcome {
  trace: string;
  requests: number;
  engine: {model: string; gpu: GpuKind; blockSize: number; numGpuBlocks: number; kvTokensPerWorker: number; maxNumSeqs: number; maxNumBatchedTokens: number};
  workers: number;
  speedup: number;
  /** Whether hashing and the prefix index ran in the native module (else their TypeScript versions). */
  native: boolean;
  prepareS: number;
  runs: ReplayRunResult[];
  disagg?: DisaggSettings & {kvBytesPerToken: number};
  goodput?: GoodputSettings & {
    /** The run meeting the SLOs with the fewest workers, or none. */
    chosen?: {config: ReplayConfig; router: ReplayRouterMode; label: string};
  };
}

/**
 * The decision rule: among runs where at least `minFraction` of requests meet every SLO, the one
 * with the fewest workers; on a tie, the higher goodput (requests/s meeting the SLOs), then the
 * earlier run. Undefined when none meets it.
 */
export function fewestWorkersMeeting(runs: readonly ReplayRunResult[], minFraction: number): ReplayRunResult | undefined {
  let best: ReplayRunResult | undefined;
  for (const r of runs) {
    const g = r.report.goodput;
    if (!g || g.fraction < minFraction) continue;
    const fewer = best ? configWorkers(r.config) - configWorkers(best.config) : -1;
    if (fewer < 0 || (fewer === 0 && g.requestsPerS > best!.report.goodput!.requestsPerS)) best = r;
  }
  return best;
}

/**
 * A full garbage collection where the runtime offers one (Bun; Node with --expose-gc), before a
 * run's clock starts: the garbage of the preparation or of the run before is not charged to it.
 */
function collectGarbage(): void {
  const g = globalThis as {Bun?: {gc(force: boolean): void}; gc?: () => void};
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

async function makeRouter(mode: ReplayRouterMode, s: ReplaySettings, clock: {ms: number}): Promise<RequestRouter> {
  const random = prng(s.seed);
  if (mode === 'round-robin') return policyRouter(new RoundRobinPolicy());
  if (mode === 'random') return policyRouter(new RandomPolicy(random));
  return KvRouter.create({
    blockSize: s.blockSize,
    overlapWeight: s.overlapWeight,
    temperature: s.temperature,
    useKvEvents: mode === 'kv',
    ttlMs: s.ttlSecs * 1000,
    maxTreeSize: s.maxTreeSize,
    pruneTargetRatio: s.pruneTargetRatio,
    now: () => clock.ms,
    random,
  });
}

/** Why a replay may be slow, or nothing: trace ids that do not split into whole engine blocks. */
export function replayNote(s: Pick<ReplaySettings, 'traceBlockSize' | 'blockSize'>): string | undefined {
  if (s.traceBlockSize % s.blockSize === 0) return undefined;
  return `note: --trace-block-size ${s.traceBlockSize} is not a multiple of --block-size ${s.blockSize}: every prompt is hashed in full (slower)`;
}

export interface ReplayHooks {
  /** Something the user should know before the replay starts (e.g. why it will be slow). */
  onNote?: (note: string) => void;
  /** Each router's run as it finishes. */
  onRun?: (r: ReplayRunResult) => void;
}

export async function runReplay(s: ReplaySettings, hooks: ReplayHooks = {}): Promise<ReplayOutcome> {
  const note = replayNote(s);
  if (note) hooks.onNote?.(note);
  const prepStart = performance.now();
  let text: string;
  try {
    text = readFileSync(s.trace, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read trace ${s.trace}: ${(e as Error).message}`, 'pass a Mooncake JSONL file, e.g. mooncake_fast25_conversation_trace.jsonl');
  }
  const trace = parseMooncakeTrace(text, s.trace, s.traceBlockSize);
  const h = await DynamoBlockHasher.create(s.blockSize);
  const prompts = new TracePrompts(h, s.traceBlockSize, s.model.vocabSize);
  const t0 = trace[0]!.arrivalMs;
  const requests: ReplayRequest[] = trace.map((r) => {
    const prompt = prompts.prompt(r);
    return {arrivalMs: (r.arrivalMs - t0) / s.speedup, outputLength: r.outputLength, prompt: () => prompt};
  });
  const numGpuBlocks = s.numGpuBlocks ?? kvCapacity(s.model, {gpuMemoryGb: s.gpuMemoryGb, blockSize: s.blockSize}).blocks;
  const engine: EngineSpec = {
    numGpuBlocks,
    blockSize: s.blockSize,
    maxNumSeqs: s.maxNumSeqs,
    maxNumBatchedTokens: s.maxNumBatchedTokens,
    perf: polynomialModel(modelScale(s.model.activeParameters, s.gpu)),
  };
  const prepareS = (performance.now() - prepStart) / 1000;
  const runs: ReplayRunResult[] = [];
  const slos = s.goodput?.slos;
  const record = (router: ReplayRouterMode, config: ReplayConfig, report: ReplayReport, wallS: number) => {
    const result: ReplayRunResult = {router, config, report, wallS, speed: report.durationS / wallS};
    runs.push(result);
    hooks.onRun?.(result);
  };
  for (const mode of s.routers) {
    const clock = {ms: 0};
    const router = await makeRouter(mode, s, clock);
    collectGarbage();
    const started = performance.now();
    const run = replay(requests, {workers: s.workers, engine, hasher: h, router, clock});
    const wallS = (performance.now() - started) / 1000;
    record(mode, {kind: 'aggregated', workers: s.workers}, reportReplay(run, s.blockSize, slos), wallS);
  }
  // The KV cache is sized in bf16 (kvCapacity's default), so it crosses the link in bf16 too.
  const kvBytesPerToken = s.model.kvBytesPerToken.bf16;
  for (const split of s.disagg?.splits ?? []) {
    for (const mode of s.routers) {
      const clock = {ms: 0};
      const [prefillRouter, decodeRouter] = [await makeRouter(mode, s, clock), await makeRouter(mode, s, clock)];
      collectGarbage();
      const started = performance.now();
      const run = replayDisagg(requests, {
        prefillWorkers: split.prefill,
        decodeWorkers: split.decode,
        engine,
        hasher: h,
        prefillRouter,
        decodeRouter,
        link: {gbps: s.disagg!.linkGbps, latencyMs: s.disagg!.transferLatencyMs},
        kvBytesPerToken,
        maxLocalPrefillTokens: s.disagg!.maxLocalPrefillTokens,
        clock,
      });
      const wallS = (performance.now() - started) / 1000;
      record(mode, {kind: 'disaggregated', ...split}, reportReplay(run, s.blockSize, slos), wallS);
    }
  }
  const chosen = s.goodput && fewestWorkersMeeting(runs, s.goodput.minFraction);
  return {
    trace: s.trace,
    requests: trace.length,
    engine: {
      model: s.model.name,
      gpu: s.gpu,
      blockSize: s.blockSize,
      numGpuBlocks,
      kvTokensPerWorker: numGpuBlocks * s.blockSize,
      maxNumSeqs: s.maxNumSeqs,
      maxNumBatchedTokens: s.maxNumBatchedTokens,
    },
    workers: s.workers,
    speedup: s.speedup,
    native: native !== undefined,
    prepareS,
    runs,
    ...(s.disagg ? {disagg: {...s.disagg, kvBytesPerToken}} : {}),
    ...(s.goodput ? {goodput: {...s.goodput, ...(chosen ? {chosen: {config: chosen.config, router: chosen.router, label: configLabel(chosen.config)}} : {})}} : {}),
  };
}
