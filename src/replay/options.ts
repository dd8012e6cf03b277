/**
 * `dynamo replay`'s flags → ReplaySettings: the router list checked, the numbers' ranges checked,
 * the model resolved. Everything else about a replay is fixed here, not a flag.
 */
import {UserError} from '../shared/errors.js';
import {resolveModel} from '../config/models.js';
import type {GpuKind} from '../engines/mocker/perf-model.js';

/** The routers replay can compare (flag --router). */
export const REPLAY_ROUTERS = ['kv', 'approx', 'round-robin', 'random'] as const;
export type ReplayRouterMode = (typeof REPLAY_ROUTERS)[number];
import type {ReplaySettings} from './run.js';

/** The command's flag values, as oclif parsed them (defaults filled in). */
export interface ReplayFlags {
  workers: number;
  router: string;
  speedup: number;
  'trace-block-size': number;
  model: string;
  gpu: string;
  'gpu-memory-gb': number;
  'block-size': number;
  'num-gpu-blocks'?: number | undefined;
  'max-num-seqs': number;
  'max-num-batched-tokens': number;
  'overlap-weight': number;
  temperature: number;
  'ttl-secs': number;
  seed: number;
}

/** The approximate router's tree limits: the serving defaults; a replay never comes near them. */
const MAX_TREE_SIZE = 1 << 20;
const PRUNE_TARGET_RATIO = 0.8;

/** "kv, approx" → ['kv', 'approx']; an unknown name is a UserError naming it. */
export function replayRouters(list: string): ReplayRouterMode[] {
  const routers = list.split(',').map((r) => r.trim());
  for (const r of routers) {
    if (!(REPLAY_ROUTERS as readonly string[]).includes(r)) throw new UserError(`unknown router "${r}"`, `use one or more of ${REPLAY_ROUTERS.join(', ')}, comma-separated`);
  }
  return routers as ReplayRouterMode[];
}

export function replayOptions(trace: string, flags: ReplayFlags): ReplaySettings {
  const routers = replayRouters(flags.router);
  // numberFlag has refused what is not a number; a speedup of 0 would send every arrival to infinity.
  if (!(flags.speedup > 0)) throw new UserError(`--speedup must be a number > 0, got "${flags.speedup}"`);
  return {
    trace,
    traceBlockSize: flags['trace-block-size'],
    speedup: flags.speedup,
    workers: flags.workers,
    routers,
    model: resolveModel(flags.model),
    gpu: flags.gpu as GpuKind, // one of the flag's options
    gpuMemoryGb: flags['gpu-memory-gb'],
    blockSize: flags['block-size'],
    numGpuBlocks: flags['num-gpu-blocks'],
    maxNumSeqs: flags['max-num-seqs'],
    maxNumBatchedTokens: flags['max-num-batched-tokens'],
    overlapWeight: flags['overlap-weight'],
    temperature: flags.temperature,
    ttlSecs: flags['ttl-secs'],
    maxTreeSize: MAX_TREE_SIZE,
    pruneTargetRatio: PRUNE_TARGET_RATIO,
    seed: flags.seed,
  };
}
