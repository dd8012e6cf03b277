import {describe, expect, it} from 'vitest';
import type {Check, CheckOutcome, SanityDeployment, SanityFacts} from './check.js';
import {NO_MODEL_FINDING, runChecks} from './runner.js';

/** Facts nobody should touch: these checks answer from their own gates. */
const noFacts: SanityFacts = {
  gpu: () => Promise.reject(new Error('no gpu fact in this test')),
  system: () => Promise.reject(new Error('no system fact in this test')),
  listeners: () => Promise.reject(new Error('no listeners fact in this test')),
  run: () => Promise.reject(new Error('no commands in this test')),
};

function gate<T = void>() {
  let open!: (v: T) => void;
  const opened = new Promise<T>((r) => (open = r));
  return {open, opened};
}

const check = (id: string, run: Check['run'], more: Partial<Check> = {}): Check => ({id, area: 'system', title: `Check ${id}`, run, ...more});
const pass = (finding: string): CheckOutcome => ({status: 'pass', finding});
const opts = {host: 'local', thorough: false, facts: noFacts};

describe('runChecks', () => {
  it('runs checks side by side: every check has started before any is allowed to finish', async () => {
    const started: string[] = [];
    const release = gate();
    const waiting = (id: string) =>
      check(id, async () => {
        started.push(id);
        await release.opened;
        return pass(`${id} done`);
      });
    const run = runChecks(['a', 'b', 'c'].map((id) => ({check: waiting(id), params: {}})), opts);
    // Each check awaits the one gate; run serially, the first would wait forever and b, c never start.
    await new Promise<void>((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b', 'c']);
    release.open();
    const results = await run;
    expect(results.map((r) => [r.id, r.status, r.finding])).toEqual([
      ['a', 'pass', 'a done'],
      ['b', 'pass', 'b done'],
      ['c', 'pass', 'c done'],
    ]);
  });

  it('takes as long as the slowest check, not the sum (on an injected clock)', async () => {
    let t = 0;
    const startedAt: number[] = [];
    const gates = [gate(), gate(), gate()];
    const waiting = (i: number) =>
      check(`c${i}`, async () => {
        startedAt.push(t);
        await gates[i]!.opened;
        return pass('ok');
      });
    const run = runChecks([0, 1, 2].map((i) => ({check: waiting(i), params: {}})), {...opts, now: () => t});
    const settle = () => new Promise<void>((r) => setImmediate(r));
    // The clock moves on while the checks wait: c1 answers at 100, c2 at 200, c0 at 300.
    for (const [i, at] of [[1, 100], [2, 200], [0, 300]] as const) {
      await settle();
      t = at;
      gates[i]!.open();
    }
    const results = await run;
    expect(startedAt).toEqual([0, 0, 0]);
    expect(results.map((r) => r.durationMs)).toEqual([300, 100, 200]);
    // Run one after another, the last would have ended at 600.
    expect(Math.max(...results.map((r) => r.durationMs))).toBe(300);
  });

  it('gives each check its suite parameters and the host', async () => {
    const seen: unknown[] = [];
    const c = check('p', async (ctx) => {
      seen.push(ctx.params, ctx.host);
      return pass('ok');
    });
    await runChecks([{check: c, params: {minGiB: 4}}], {...opts, host: 'gpu-1'});
    expect(seen).toEqual([{minGiB: 4}, 'gpu-1']);
  });

  it('turns a check that outlives its budget into a warning, and still returns the others', async () => {
    const never = check('hung', () => new Promise<CheckOutcome>(() => {}), {timeoutMs: 20, title: 'Hung probe'});
    const quick = check('quick', async () => pass('fine'));
    const [hung, ok] = await runChecks([{check: never, params: {}}, {check: quick, params: {}}], opts);
    expect(hung).toMatchObject({id: 'hung', status: 'warn', finding: 'timed out after 20 ms'});
    expect(hung!.fix).toContain('Hung probe');
    expect(hung!.durationMs).toBeGreaterThanOrEqual(19);
    expect(ok).toMatchObject({id: 'quick', status: 'pass'});
  });

  it('uses the default budget for checks that set none', async () => {
    const never = check('hung', () => new Promise<CheckOutcome>(() => {}));
    const [r] = await runChecks([{check: never, params: {}}], {...opts, defaultTimeoutMs: 15});
    expect(r).toMatchObject({status: 'warn', finding: 'timed out after 15 ms'});
  });

  it('reports a check that throws, rejects or returns nonsense as failed, without crashing the run', async () => {
    const throwsNow = check('sync', () => {
      throw new Error('cannot read property x');
    });
    const rejects = check('async', async () => {
      throw new Error('parse error at line 3');
    });
    const nonsense = check('bad', async () => undefined as unknown as CheckOutcome);
    const results = await runChecks([throwsNow, rejects, nonsense].map((c) => ({check: c, params: {}})), opts);
    expect(results.map((r) => [r.id, r.status, r.finding])).toEqual([
      ['sync', 'fail', 'check crashed: cannot read property x'],
      ['async', 'fail', 'check crashed: parse error at line 3'],
      ['bad', 'fail', 'check crashed: returned undefined, not an outcome'],
    ]);
    expect(results[0]!.fix).toContain('dynamo sanity --json');
  });

  it('skips thorough-only checks unless --thorough, without running them', async () => {
    let ran = 0;
    const slow = check('bw', async () => {
      ran++;
      return pass('900 GB/s');
    }, {thorough: true});
    const [skipped] = await runChecks([{check: slow, params: {}}], opts);
    expect(skipped).toMatchObject({status: 'skip', finding: 'slow check: run with --thorough', durationMs: 0});
    expect(ran).toBe(0);
    const [done] = await runChecks([{check: slow, params: {}}], {...opts, thorough: true});
    expect(done).toMatchObject({status: 'pass', finding: '900 GB/s'});
  });

  it('skips deployment checks when no model is given, and runs them when one is', async () => {
    const d = check('d.ports', async (ctx) => pass(`plan ${ctx.deployment!.plan.name}`), {area: 'deployment'});
    const [skipped] = await runChecks([{check: d, params: {}}], opts);
    expect(skipped).toMatchObject({status: 'skip', finding: NO_MODEL_FINDING});
    expect(NO_MODEL_FINDING).toBe('no model given: pass --model to check a deployment');
    const deployment = {config: {}, plan: {name: 'demo'}} as unknown as SanityDeployment;
    const [ran] = await runChecks([{check: d, params: {}}], {...opts, deployment});
    expect(ran).toMatchObject({status: 'pass', finding: 'plan demo'});
  });

  it('keeps fix and data from the outcome, and stamps id, area, title and host', async () => {
    const c = check('shm', async () => ({status: 'warn', finding: '64 MiB', fix: 'more', data: {bytes: 67108864}}), {title: 'Shared memory'});
    const [r] = await runChecks([{check: c, params: {}}], {...opts, now: () => 0});
    expect(r).toEqual({id: 'shm', area: 'system', title: 'Shared memory', host: 'local', status: 'warn', finding: '64 MiB', fix: 'more', data: {bytes: 67108864}, durationMs: 0});
  });
});
