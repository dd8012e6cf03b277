/**
 * One `dynamo bench` from a parsed profile to written results: prepare the target and workload,
 * run every load point with progress, write the files, hand the results to the caller to print.
 * Ctrl-C (SIGINT) or SIGTERM stops at once: requests in flight are cancelled, later runs are
 * skipped, the results so far are still written and shown, then Cancelled is thrown (exit 130).
 */
import {resolve} from 'node:path';
import {Cancelled} from '../shared/errors.js';
import {err} from '../shared/output.js';
import type {PointResult} from './analyze.js';
import {headerLine, resultsLine} from './console.js';
import type {BenchExport} from './export.js';
import {plannedRequests} from './load.js';
import type {BenchProfile} from './profile.js';
import {benchTasks} from './progress.js';
import {type PreparedBench, defaultOutputDir, prepareBench, runPoint, writeOutputs} from './run.js';

export interface BenchOutcome {
  bench: PreparedBench;
  /** One per finished load point, in order (fewer than planned when stopped). */
  results: PointResult[];
  exported: BenchExport;
  /** Where the files were written (absolute). */
  dir: string;
}

export interface BenchSessionOptions {
  /** DYN_HOME, to find the running `dynamo up` deployment when the profile has no URL. */
  home: string;
  /** Resolves the profile's relative paths and output directory (default: the process's). */
  cwd?: string;
  /** Stops the bench as Ctrl-C does. */
  signal?: AbortSignal;
  /** Live progress lines (default: stderr is a terminal and $CI is unset). */
  live?: boolean;
  renderer?: 'default' | 'silent';
  /** Shows the results once the files are written, also when stopped (before Cancelled is thrown). */
  onResults?: (o: BenchOutcome) => void;
}

export async function runBench(profile: BenchProfile, opts: BenchSessionOptions): Promise<BenchOutcome> {
  const cwd = opts.cwd ?? process.cwd();
  const bench = await prepareBench(profile, {home: opts.home, cwd});
  const dir = resolve(cwd, profile.outputDir ?? defaultOutputDir());
  const stop = new AbortController();
  const onStop = () => stop.abort();
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);
  opts.signal?.addEventListener('abort', onStop, {once: true});
  if (opts.signal?.aborted) stop.abort();
  let results: PointResult[];
  try {
    err(headerLine(bench));
    const durationMs = profile.load.durationS ? profile.load.durationS * 1000 : undefined;
    const points = bench.points.map((at) => ({...at, planned: plannedRequests(at.point, bench.workload, profile.load.requestCount, durationMs)}));
    const run = benchTasks(points, (at, onRequest) => runPoint(bench, at, {stop: stop.signal, onRecord: (r) => onRequest(!!r.response.error)}), {
      live: opts.live ?? (!!process.stderr.isTTY && !process.env.CI),
      ...(opts.renderer ? {renderer: opts.renderer} : {}),
      stop: stop.signal,
      durationMs,
    });
    results = run.results;
    await run.tasks.run();
  } finally {
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
    opts.signal?.removeEventListener('abort', onStop);
  }
  const outcome = {bench, results, exported: writeOutputs(bench, results, dir), dir};
  opts.onResults?.(outcome);
  err(resultsLine(dir));
  if (stop.signal.aborted) throw new Cancelled('bench stopped; the results so far are written');
  return outcome;
}
