import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {fixturePlan, fixtureProcess, freePort, pidAlive, pidsIn, tempDir, until} from '../../test/helpers/processes.js';
import {ExternalError} from '../shared/errors.js';
import {startupTasks} from './startup-tasks.js';
import {Supervisor} from './supervisor.js';

const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stopAll()));
});

function supervise(plan: ReturnType<typeof fixturePlan>) {
  const lines: Record<string, string[]> = {};
  const statuses: string[] = [];
  const sup = new Supervisor(plan, {
    controlDir: join(plan.runDir, 'ssh'),
    onLine: (id, line) => (lines[id] ??= []).push(line),
    onStatus: (s) => statuses.push(`${s.id}:${s.status}`),
  });
  running.push(sup);
  return {sup, lines, statuses, pids: () => pidsIn(Object.values(lines).flat())};
}

describe('Supervisor', () => {
  it('starts dependencies first, waits for readiness, and stops in reverse order leaving no process', async () => {
    const dir = tempDir();
    const [p1, p2] = [await freePort(), await freePort()];
    const plan = fixturePlan(dir, [
      fixtureProcess('api', 'server.mjs', {logDir: dir, env: {PORT: String(p2)}, ports: {http: p2}, readiness: {address: '127.0.0.1', port: p2, httpPath: '/health', timeoutMs: 10_000}, dependsOn: ['backend']}),
      fixtureProcess('backend', 'server.mjs', {logDir: dir, env: {PORT: String(p1)}, ports: {http: p1}, readiness: {address: '127.0.0.1', port: p1, httpPath: '/health', timeoutMs: 10_000}}),
    ]);
    const {sup, statuses, pids} = supervise(plan);
    await startupTasks(sup).run();
    expect(statuses.indexOf('backend:ready')).toBeLessThan(statuses.indexOf('api:starting'));
    expect(sup.states().map((s) => s.status)).toEqual(['ready', 'ready']);
    const started = pids();
    expect(started).toHaveLength(2);
    await sup.stopAll();
    expect(statuses.indexOf('api:stopped')).toBeLessThan(statuses.indexOf('backend:stopping'));
    for (const pid of started) expect(pidAlive(pid)).toBe(false);
    expect(readFileSync(join(dir, 'backend.log'), 'utf8')).toContain('got SIGTERM');
  });

  it('fails startup at once with the log tail when a process exits before it is ready, stopping the others', async () => {
    const dir = tempDir();
    const port = await freePort();
    const plan = fixturePlan(dir, [
      fixtureProcess('ok', 'server.mjs', {logDir: dir, env: {PORT: String(port)}, readiness: {address: '127.0.0.1', port, timeoutMs: 10_000}}),
      fixtureProcess('gpu-worker', 'crasher.mjs', {logDir: dir, readiness: {address: '127.0.0.1', port: await freePort(), timeoutMs: 30_000}}),
    ]);
    const {sup, pids} = supervise(plan);
    const started = Date.now();
    const e = await sup.startAll().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ExternalError);
    const err = e as ExternalError;
    expect(err.message).toContain('gpu-worker exited before it was ready');
    expect(err.failure.exitCode).toBe(3);
    expect(err.failure.logTail).toContain('error: CUDA out of memory (simulated)');
    expect(err.failure.logFile).toBe(join(dir, 'gpu-worker.log'));
    // It did not wait out the 30 s readiness budget.
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const pid of pids()) expect(pidAlive(pid)).toBe(false);
  });

  it('fails startup when a process is not ready within its budget', async () => {
    const dir = tempDir();
    const port = await freePort();
    const plan = fixturePlan(dir, [
      fixtureProcess('slow', 'slow-start.mjs', {logDir: dir, env: {PORT: String(port), START_DELAY_MS: '60000'}, readiness: {address: '127.0.0.1', port, timeoutMs: 300}}),
    ]);
    const {sup, pids} = supervise(plan);
    await expect(sup.startAll()).rejects.toThrow(/slow not ready after 300 ms \(waiting for port \d+\)/);
    for (const pid of pids()) expect(pidAlive(pid)).toBe(false);
  });

  it('waits for a slow starter within its budget', async () => {
    const dir = tempDir();
    const port = await freePort();
    const plan = fixturePlan(dir, [
      fixtureProcess('slow', 'slow-start.mjs', {logDir: dir, env: {PORT: String(port), START_DELAY_MS: '400'}, readiness: {address: '127.0.0.1', port, httpPath: '/', logLine: '^ready$', timeoutMs: 10_000}}),
    ]);
    const {sup} = supervise(plan);
    await sup.startAll();
    expect(sup.states()[0]!.status).toBe('ready');
  });

  it('restarts a crashed worker with exponential backoff, then gives up and stops the deployment', async () => {
    const dir = tempDir();
    const port = await freePort();
    const starts = join(dir, 'starts');
    const plan = fixturePlan(dir, [
      fixtureProcess('worker', 'server.mjs', {
        logDir: dir,
        env: {PORT: String(port), CRASH_AFTER_MS: '150', STARTS_FILE: starts},
        readiness: {address: '127.0.0.1', port, httpPath: '/health', timeoutMs: 10_000},
        restart: {maxRestarts: 3, backoffMs: 200, backoffMaxMs: 10_000, stableMs: 60_000},
      }),
    ]);
    const {sup, lines} = supervise(plan);
    await sup.startAll();
    const outcome = await sup.outcome;
    expect(outcome.kind).toBe('gave-up');
    if (outcome.kind === 'gave-up') {
      expect(outcome.error.message).toContain('crashed 4 times in a row (limit 3 restarts)');
      expect(outcome.error.failure.logTail).toContain('fatal: simulated crash');
    }
    const t = readFileSync(starts, 'utf8').trim().split('\n').map(Number);
    expect(t).toHaveLength(4);
    // Each wait is at least the backoff for that attempt: 200, 400, 800 ms (+ the 150 ms it ran).
    expect(t[1]! - t[0]!).toBeGreaterThanOrEqual(200 + 150);
    expect(t[2]! - t[1]!).toBeGreaterThanOrEqual(400 + 150);
    expect(t[3]! - t[2]!).toBeGreaterThanOrEqual(800 + 150);
    expect(lines.worker).toContain('[dynamo] worker exited (exit code 3); restart 2/3 in 400 ms');
    expect(sup.states()[0]!.restarts).toBe(3);
  });

  it('takes the whole deployment down when a process with no restarts left exits, naming it', async () => {
    const dir = tempDir();
    const [p1, p2] = [await freePort(), await freePort()];
    const plan = fixturePlan(dir, [
      fixtureProcess('worker', 'server.mjs', {logDir: dir, env: {PORT: String(p1)}, readiness: {address: '127.0.0.1', port: p1, timeoutMs: 10_000}}),
      fixtureProcess('etcd', 'server.mjs', {
        logDir: dir,
        env: {PORT: String(p2), CRASH_AFTER_MS: '300'},
        readiness: {address: '127.0.0.1', port: p2, timeoutMs: 10_000},
        restart: {maxRestarts: 0, backoffMs: 0, backoffMaxMs: 0, stableMs: 0},
        dependsOn: ['worker'],
      }),
    ]);
    const {sup, pids} = supervise(plan);
    await sup.startAll();
    const outcome = await sup.outcome;
    expect(outcome.kind).toBe('gave-up');
    if (outcome.kind === 'gave-up') expect(outcome.error.message).toBe('etcd exited (it is never restarted); giving up and stopping the deployment');
    for (const pid of pids()) expect(pidAlive(pid)).toBe(false);
  });

  it('escalates to SIGKILL for a process that ignores SIGTERM', async () => {
    const dir = tempDir();
    const plan = fixturePlan(
      dir,
      [fixtureProcess('stubborn', 'stubborn.mjs', {logDir: dir, readiness: {address: '127.0.0.1', logLine: 'stubborn ready', timeoutMs: 10_000}})],
      300,
    );
    const {sup, pids, lines} = supervise(plan);
    await sup.startAll();
    const [pid] = pids();
    await sup.stopAll();
    expect(lines.stubborn).toContain('ignoring SIGTERM');
    expect(sup.states()[0]!.exit?.signal).toBe('SIGKILL');
    await until(() => !pidAlive(pid!), 2000, 'stubborn pid gone');
  });
});
