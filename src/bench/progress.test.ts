import {ListrTaskEventType} from 'listr2';
import {describe, expect, it} from 'vitest';
import type {PointResult} from './analyze.js';
import {benchTasks} from './progress.js';

/** What a finished run reports, as far as its summary line reads it. */
const result = (label: string, meetsSla = false) =>
  ({label, meetsSla, aggregate: {completed: 9, requests: 10, requestThroughput: 4, ttftMs: {p50: 12.34}}}) as unknown as PointResult;

/** A run that ends `n` requests 30 ms apart on the fake clock, every fourth one failed. */
const fakeRun = (clock: {t: number}, n = 10) => async (at: {label: string}, onRequest: (failed: boolean) => void) => {
  for (let i = 0; i < n; i++) {
    clock.t += 30;
    onRequest(i % 4 === 0);
  }
  return result(at.label, at.label.endsWith('1'));
};

function titlesOf(tasks: ReturnType<typeof benchTasks>['tasks']): string[][] {
  return tasks.tasks.map((task) => {
    const seen: string[] = [];
    task.on(ListrTaskEventType.TITLE, (t: string) => seen.push(t));
    return seen;
  });
}

describe('bench progress', () => {
  it('on a terminal redraws a run\'s progress line at most every 100 ms, then shows its summary', async () => {
    const clock = {t: 1000};
    const log: string[] = [];
    const {tasks, results} = benchTasks([{label: 'concurrency 1', planned: 10}], fakeRun(clock), {live: true, renderer: 'silent', stop: new AbortController().signal, now: () => clock.t, log: (l) => log.push(l)});
    const titles = titlesOf(tasks);
    await tasks.run();
    // Requests end at +30, +60, … +300 ms: drawn at +30, +150 and +270 only.
    expect(titles[0]!.slice(0, -1).map((t) => /(\d+)\/10 requests · (\d+) errors/.exec(t)?.slice(1))).toEqual([
      ['1', '1'],
      ['5', '2'],
      ['9', '3'],
    ]);
    expect(titles[0]!.at(-1)).toBe('concurrency 1: 9/10 ok · 4.00 req/s · TTFT p50 12.3 ms · meets SLA');
    expect(results.map((r) => r.label)).toEqual(['concurrency 1']);
    expect(log).toEqual([]);
  });

  it('without a terminal draws nothing while running and prints one line per finished run', async () => {
    const clock = {t: 0};
    const log: string[] = [];
    const {tasks, results} = benchTasks([{label: 'concurrency 1'}, {label: 'concurrency 2'}], fakeRun(clock), {live: false, stop: new AbortController().signal, now: () => clock.t, log: (l) => log.push(l)});
    const titles = titlesOf(tasks);
    await tasks.run();
    expect(titles.map((t) => t.length)).toEqual([1, 1]);
    expect(log).toEqual(['✔ concurrency 1: 9/10 ok · 4.00 req/s · TTFT p50 12.3 ms · meets SLA', '✔ concurrency 2: 9/10 ok · 4.00 req/s · TTFT p50 12.3 ms']);
    expect(results.map((r) => r.label)).toEqual(['concurrency 1', 'concurrency 2']);
  });

  it('once stopped, skips the runs not yet started and keeps the finished ones', async () => {
    const stop = new AbortController();
    const started: string[] = [];
    const run = async (at: {label: string}) => {
      started.push(at.label);
      stop.abort(); // Ctrl-C during the first run
      return result(at.label);
    };
    const {tasks, results} = benchTasks([{label: 'a'}, {label: 'b'}, {label: 'c'}], run, {live: false, stop: stop.signal, log: () => {}});
    await tasks.run();
    expect(started).toEqual(['a']);
    expect(results.map((r) => r.label)).toEqual(['a']);
  });
});
