import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {dynamo} from './helpers/cli.js';
import {requireBinary, tempDir} from './helpers/processes.js';

const TRACE = join(import.meta.dirname, 'fixtures/traces/mooncake-conversation-head400.jsonl');

describe('dynamo replay', () => {
  requireBinary();
  it('replays a Mooncake trace through four routers side by side; kv hits the cache far more than round-robin', async () => {
    const r = await dynamo(['replay', TRACE, '--workers', '4', '--router', 'kv,approx,round-robin,random', '--num-gpu-blocks', '200000', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.requests).toBe(400);
    const by = Object.fromEntries(o.runs.map((x: {router: string; report: unknown}) => [x.router, x.report]));
    for (const rep of Object.values(by) as {completed: number; ttftMs: {p50: number}}[]) {
      expect(rep.completed).toBe(400);
      expect(rep.ttftMs.p50).toBeGreaterThan(0);
    }
    console.log(
      'replay, 400 conversation requests, 4 workers, large caches: hit rate (blocks)',
      o.runs.map((x: {router: string; report: {hitRate: {blocks: number}}; speed: number}) => `${x.router} ${(100 * x.report.hitRate.blocks).toFixed(1)}% (${x.speed.toFixed(0)}×)`).join(', '),
    );
    // These first 400 requests (141 s) reuse little: 13.5 % of blocks with one infinite shared cache
    // (the bound); round-robin lands near half of it, kv near the bound.
    expect(by.kv.hitRate.blocks).toBeGreaterThan(0.6 * 0.135);
    expect(by.kv.hitRate.blocks).toBeGreaterThan(1.4 * by['round-robin'].hitRate.blocks);
    expect(by.approx.hitRate.blocks).toBeGreaterThan(1.4 * by['round-robin'].hitRate.blocks);
    expect(by.kv.ttftMs.mean).toBeLessThan(by['round-robin'].ttftMs.mean);
  });

  it('prints a table by default', async () => {
    const r = await dynamo(['replay', TRACE, '--workers', '2', '--router', 'round-robin']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/400 requests over \d+ s simulated/);
    expect(r.stdout).toMatch(/ROUTER\s+HIT BLOCKS\s+HIT TOKENS\s+TTFT P50\/P90\/P99 MS/);
  });

  it('answers bad input with one clear line and no stack trace', async () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"timestamp": 0, "input_length": 100, "output_length": 1, "hash_ids": [0]}\n{"timestamp": 1}\n');
    // Exit 2: oclif's own flag checks (a value that is not a number), as for every number flag.
    const cases: [string[], RegExp, number][] = [
      [['replay', join(dir, 'missing.jsonl')], /cannot read trace .*missing\.jsonl/, 1],
      [['replay', bad], /bad\.jsonl:2: "input_length" must be a positive integer/, 1],
      [['replay', TRACE, '--router', 'kv,fastest'], /unknown router "fastest"/, 1],
      [['replay', TRACE, '--speedup', 'fast'], /--speedup: expected a number, got "fast"/, 2],
      [['replay', TRACE, '--speedup', '0'], /--speedup must be a number > 0, got "0"/, 1],
    ];
    for (const [args, expected, exitCode] of cases) {
      const r = await dynamo(args);
      expect(r.exitCode, r.stderr).toBe(exitCode);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
