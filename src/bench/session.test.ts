import {existsSync, mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {Cancelled} from '../shared/errors.js';
import {benchSummary} from './console.js';
import {profileSchema} from './profile.js';
import {type BenchOutcome, runBench} from './session.js';
import {type SseServer, type SseServerOptions, startSseServer} from './sse-server.js';

let server: SseServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

/** Starts the test server; returns a profile aimed at it and a fresh working directory. */
async function setup(load: Record<string, unknown>, opts: SseServerOptions = {}) {
  server = await startSseServer(opts);
  const cwd = mkdtempSync(join(tmpdir(), 'bench-session-'));
  const profile = profileSchema.parse({target: {url: server.url, model: 'test-model'}, workload: {isl: 8, osl: 4}, load, outputDir: 'out'});
  const stderr: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => stderr.push(String(s)) > 0);
  return {profile, cwd, stderr};
}

const signalListeners = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];

describe('a bench session', () => {
  it('runs every load point, writes the result files and shows the results', async () => {
    const {profile, cwd, stderr} = await setup({concurrency: [1, 2], requestCount: 6});
    const before = signalListeners();
    let shown: BenchOutcome | undefined;
    const outcome = await runBench(profile, {home: cwd, cwd, live: false, onResults: (o) => (shown = o)});
    expect(shown).toBe(outcome);
    expect(outcome.dir).toBe(join(cwd, 'out'));
    for (const f of ['profile_export.json', 'profile_export.csv', 'profile_export.jsonl', 'report.html']) expect(existsSync(join(cwd, 'out', f)), f).toBe(true);
    expect(outcome.results.map((r) => [r.label, r.aggregate.completed])).toEqual([
      ['concurrency 1', 6],
      ['concurrency 2', 6],
    ]);
    expect(stderr[0]).toBe(`bench: ${server!.url} · model test-model · synthetic workload · 2 runs · tokens from usage (unknown tokenizer)\n`);
    expect(stderr.filter((l) => l.startsWith('✔ '))).toHaveLength(2);
    expect(stderr.at(-1)).toBe(`results: ${join(cwd, 'out')}/ (profile_export.json, profile_export.csv, profile_export.jsonl, report.html)\n`);
    expect(benchSummary(outcome.results, profile)).toMatch(/── sweep ──[\s\S]*\n\n★ Recommended: concurrency 2 is the highest load meeting every SLO/);
    expect(signalListeners()).toEqual(before);
  });

  it('a single run without SLOs has nothing to recommend', async () => {
    const {profile, cwd} = await setup({concurrency: 1, requestCount: 2});
    const outcome = await runBench(profile, {home: cwd, cwd, live: false});
    expect(benchSummary(outcome.results, profile)).not.toMatch(/Recommended|✗/);
  });

  it('stopped mid-run: cancels what is in flight, skips later runs, writes and shows the results so far, then throws Cancelled', async () => {
    const stop = new AbortController();
    const {profile, cwd, stderr} = await setup({concurrency: [2, 4], requestCount: 1000}, {tokenMs: 5, onRequest: () => void (server!.received() === 5 && stop.abort())});
    let shown: BenchOutcome | undefined;
    const err = await runBench(profile, {home: cwd, cwd, live: false, signal: stop.signal, onResults: (o) => (shown = o)}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cancelled);
    expect((err as Cancelled).message).toBe('bench stopped; the results so far are written');
    expect(shown!.results).toHaveLength(1);
    const exported = JSON.parse(readFileSync(join(cwd, 'out', 'profile_export.json'), 'utf8'));
    expect(exported.runs).toHaveLength(1);
    expect(exported.runs[0].was_cancelled).toBe(true);
    expect(server!.received()).toBeLessThan(20);
    expect(stderr.at(-1)).toMatch(/^results: /);
  });

  it('SIGTERM stops it as Ctrl-C does, and the signal handlers are gone afterwards', async () => {
    const before = signalListeners();
    const {profile, cwd} = await setup({concurrency: 2, requestCount: 1000}, {tokenMs: 5, onRequest: () => void (server!.received() === 3 && process.emit('SIGTERM'))});
    await expect(runBench(profile, {home: cwd, cwd, live: false})).rejects.toBeInstanceOf(Cancelled);
    expect(JSON.parse(readFileSync(join(cwd, 'out', 'profile_export.json'), 'utf8')).runs[0].was_cancelled).toBe(true);
    expect(signalListeners()).toEqual(before);
  });
});
