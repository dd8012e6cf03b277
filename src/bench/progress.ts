/**
 * What `dynamo bench` shows while it runs: one listr2 task per load point, returned unrun so a
 * test can run it with the silent renderer. On a terminal a task's title is its progress line,
 * redrawn at most every REDRAW_MS: the load loop shares this thread and must stay free to send on
 * time. Without one (CI, a pipe) nothing is redrawn and each finished run prints one "✔" line.
 */
import {Listr, ProcessOutput} from 'listr2';
import {err} from '../shared/output.js';
import type {PointResult} from './analyze.js';
import {finishedLine, progressLine} from './console.js';

/** Fastest redraw of a progress line. */
export const REDRAW_MS = 100;

export interface ProgressPoint {
  label: string;
  /** Requests the run will send, when known (a count, not a duration). */
  planned?: number;
}

/** Runs one load point, reporting each request as it ends (`failed`: it ended in an error record). */
export type RunPointFn<P> = (at: P, onRequest: (failed: boolean) => void) => Promise<PointResult>;

export interface BenchTasksOptions {
  /** A terminal that redraws: live progress lines. Else one "✔" line per finished run. */
  live: boolean;
  /** listr2's renderer (default: 'default' when live, else 'silent'). */
  renderer?: 'default' | 'silent';
  /** Once aborted, the runs not yet started are skipped. */
  stop: AbortSignal;
  /** A duration run's length, for its progress bar when the count is unknown. */
  durationMs?: number;
  now?: () => number;
  /** Where the "✔" lines go (default: stderr). */
  log?: (line: string) => void;
}

/** True on the first call and then at most once per `everyMs`. */
export function throttle(everyMs: number, now: () => number): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const t = now();
    if (t - last < everyMs) return false;
    last = t;
    return true;
  };
}

/** The task list, unrun, and the results it fills in order as the runs finish. */
export function benchTasks<P extends ProgressPoint>(points: readonly P[], run: RunPointFn<P>, opts: BenchTasksOptions): {tasks: Listr; results: PointResult[]} {
  const now = opts.now ?? (() => performance.now());
  const log = opts.log ?? err;
  const results: PointResult[] = [];
  const tasks = new Listr(
    points.map((at) => ({
      title: at.label,
      task: async (_: unknown, task: {title: string}) => {
        if (opts.stop.aborted) return;
        const started = now();
        const redraw = throttle(REDRAW_MS, now);
        let done = 0;
        let errors = 0;
        const r = await run(at, (failed) => {
          done++;
          if (failed) errors++;
          if (!opts.live || !redraw()) return;
          task.title = progressLine(at.label, {done, errors, planned: at.planned, elapsedMs: now() - started, durationMs: opts.durationMs});
        });
        results.push(r);
        task.title = finishedLine(r);
        if (!opts.live) log(`✔ ${task.title}`);
      },
    })),
    {
      renderer: opts.renderer ?? (opts.live ? 'default' : 'silent'),
      exitOnError: true,
      registerSignalListeners: false,
      concurrent: false,
      processOutput: new ProcessOutput(process.stderr, process.stderr),
    } as any,
  );
  return {tasks, results};
}
