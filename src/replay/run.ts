/**
 * `dynamo replay`: loads a trace, then replays it once per router on identical engines and
 * reports each run side by side. The prompts' block hashes are memoized per trace hash id and
 * shared by all runs; each run's wall time covers the simulation only (preparation is timed apart).
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
import {type ReplayReport, reportReplay} from './report.js';
import {type EngineSpec, type ReplayRequest, replay} from './simulate.js';
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
}

export interface ReplayRunResult {
  router: ReplayRouterMode;
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
  const requests: ReplayRequest[] = trace.map((r) => ({
    arrivalMs: (r.arrivalMs - t0) / s.speedup,
    outputLength: r.outputLength,
    prompt: () => prompts.prompt(r),
  }));
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
  for (const mode of s.routers) {
    const clock = {ms: 0};
    const router = await makeRouter(mode, s, clock);
    const started = performance.now();
    const run = replay(requests, {workers: s.workers, engine, hasher: h, router, clock});
    const wallS = (performance.now() - started) / 1000;
    const report = reportReplay(run, s.blockSize);
    const result = {router: mode, report, wallS, speed: report.durationS / wallS};
    runs.push(result);
    hooks.onRun?.(result);
  }
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
  };
}
