/**
 * `dynamo replay`'s flags → ReplaySettings: the router list checked, the numbers' ranges checked,
 * the model resolved, the disaggregated splits paired, the goodput SLOs read. Everything else about
 * a replay is fixed here, not a flag.
 */
import {UserError} from '../shared/errors.js';
import {resolveModel} from '../config/models.js';
import type {GpuKind} from '../engines/mocker/perf-model.js';
import {goodputSlos} from '../bench/goodput.js';
import type {ReplaySlos} from './report.js';

/** The routers replay can compare (flag --router). */
export const REPLAY_ROUTERS = ['kv', 'approx', 'round-robin', 'random'] as const;
export type ReplayRouterMode = (typeof REPLAY_ROUTERS)[number];
import type {DisaggSettings, GoodputSettings, ReplaySettings} from './run.js';

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
  disagg?: boolean | undefined;
  'prefill-workers'?: number[] | undefined;
  'decode-workers'?: number[] | undefined;
  'link-gbps': number;
  'transfer-latency-ms': number;
  'max-local-prefill-length': number;
  goodput?: string | undefined;
  'goodput-target': number;
}

/** The most engines one replay simulates (as --workers allows). */
export const MAX_REPLAY_WORKERS = 1024;

const SPLITS_EXAMPLE = '--disagg --prefill-workers 2,4 --decode-workers 6,4 (splits 2P+6D and 4P+4D)';

function workerCounts(flag: string, xs: number[]): number[] {
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 1) throw new UserError(`--${flag}: expected whole numbers ≥ 1, got "${xs.join(',')}"`, `e.g. ${SPLITS_EXAMPLE}`);
  }
  return xs;
}

/** --disagg and its flags → the splits and the transfer model; undefined without --disagg. */
export function disaggOptions(flags: ReplayFlags): DisaggSettings | undefined {
  const prefill = flags['prefill-workers'];
  const decode = flags['decode-workers'];
  if (!flags.disagg) {
    const stray = prefill ? 'prefill-workers' : decode ? 'decode-workers' : undefined;
    if (stray) throw new UserError(`--${stray} needs --disagg`, `add --disagg to compare disaggregated splits with the aggregated run, e.g. ${SPLITS_EXAMPLE}`);
    return undefined;
  }
  if (!prefill || !decode) {
    throw new UserError(`--disagg needs --prefill-workers and --decode-workers`, `give one prefill and one decode count per split, e.g. ${SPLITS_EXAMPLE}`);
  }
  workerCounts('prefill-workers', prefill);
  workerCounts('decode-workers', decode);
  if (prefill.length !== decode.length) {
    throw new UserError(
      `--prefill-workers lists ${prefill.length} split${prefill.length === 1 ? '' : 's'} (${prefill.join(',')}) but --decode-workers lists ${decode.length} (${decode.join(',')})`,
      `give one decode count per prefill count, in the same order, e.g. ${SPLITS_EXAMPLE}`,
    );
  }
  const splits = prefill.map((p, i) => ({prefill: p, decode: decode[i]!}));
  for (const sp of splits) {
    if (sp.prefill + sp.decode > MAX_REPLAY_WORKERS) throw new UserError(`split ${sp.prefill}P+${sp.decode}D has more than ${MAX_REPLAY_WORKERS} workers`);
  }
  if (!(flags['link-gbps'] > 0)) throw new UserError(`--link-gbps must be a number > 0, got "${flags['link-gbps']}"`, 'e.g. 450 (NVLink), 25 (InfiniBand), 2 (TCP)');
  return {splits, linkGbps: flags['link-gbps'], transferLatencyMs: flags['transfer-latency-ms'], maxLocalPrefillTokens: flags['max-local-prefill-length']};
}

/** "ttft:500 itl:50" → the SLOs replay can judge (time to second token it does not measure). */
export function replaySlos(v: string): ReplaySlos {
  const read = goodputSlos(v);
  if (read.ttstMs !== undefined) throw new UserError('--goodput: replay does not measure the time to second token', 'use ttft, itl (or tpot) and e2e');
  const slos: ReplaySlos = {};
  if (read.ttftMs !== undefined) slos.ttftMs = read.ttftMs;
  if (read.tpotMs !== undefined) slos.itlMs = read.tpotMs;
  if (read.e2eMs !== undefined) slos.e2eMs = read.e2eMs;
  if (!Object.keys(slos).length) throw new UserError('--goodput: no SLO given', 'write metric:milliseconds pairs, e.g. "ttft:500 itl:50"');
  return slos;
}

export function goodputOptions(flags: ReplayFlags): GoodputSettings | undefined {
  const target = flags['goodput-target'];
  if (!(target > 0 && target <= 100)) throw new UserError(`--goodput-target must be a percentage in (0, 100], got "${target}"`);
  if (flags.goodput === undefined) return undefined;
  return {slos: replaySlos(flags.goodput), minFraction: target / 100};
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
    disagg: disaggOptions(flags),
    goodput: goodputOptions(flags),
  };
}
