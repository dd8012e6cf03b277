import {type ChildProcess, spawn} from 'node:child_process';
/** Helpers for tests that start processes: fixture plans, free ports, pid checks, gates. */
import {existsSync, mkdtempSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import type {DeploymentPlan, ProcessSpec} from '../../src/supervisor/plan.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BINARY = join(ROOT, 'dist/dynamo');
export const fixture = (name: string) => join(ROOT, 'test/fixtures', name);

/**
 * The built binary, for suites that drive it. test/global-setup.ts builds it before any test runs,
 * so a missing binary means a broken build: the suite fails with this message rather than being
 * skipped (a skipped suite reads as green in CI). Call it first thing in the suite's describe.
 */
export function requireBinary(): string {
  if (!existsSync(BINARY)) throw new Error('dist/dynamo is missing: run npm run build');
  return BINARY;
}

export function tempDir(prefix = 'dyn-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A free port, from the same checked range as freePortRange (never one of the kernel's ephemeral ports). */
export function freePort(): Promise<number> {
  return freePortRange(1);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until `cond` holds (a gate, not a sleep); fails after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function fixtureProcess(id: string, script: string, opts: Partial<ProcessSpec> & {logDir: string; env?: Record<string, string>}): ProcessSpec {
  const {logDir, ...rest} = opts;
  return {
    id,
    role: 'external',
    host: {name: 'local'},
    argv: [process.execPath, fixture(script)],
    env: {},
    ports: {},
    readiness: {address: '127.0.0.1', timeoutMs: 10_000},
    dependsOn: [],
    restart: {maxRestarts: 0, backoffMs: 100, backoffMaxMs: 1000, stableMs: 60_000},
   
    logFile: join(logDir, `${id}.log`),
    ...rest,
  };
}

export function fixturePlan(runDir: string, processes: ProcessSpec[], stopGraceMs = 500): DeploymentPlan {
  return {name: 'test', runDir, model: 'fixture', url: 'http://127.0.0.1:0', stopGraceMs, processes};
}

/** Pids printed by fixtures as `pid=N`. */
export function pidsIn(lines: string[]): number[] {
  return lines.flatMap((l) => {
    const m = /^pid=(\d+)$/.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

/** Ranges freePortRange gave out in this process: [from, to). */
const handedOut: [number, number][] = [];

/** A base port with `n` consecutive free ports after it (for worker port ranges). */
export async function freePortRange(n: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below the kernel's ephemeral range (32768+): a port handed to an outgoing connection or a
    // listener on port 0 between this check and the bind cannot take one of ours.
    const base = 20_000 + Math.floor(Math.random() * (12_000 - n));
    // Nor one this process handed out already: those are free until their user binds them, so a
    // second range drawn before then could overlap the first (two planes given one port).
    if (handedOut.some(([from, to]) => base < to && from < base + n)) continue;
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await free(base + i);
    if (ok) {
      handedOut.push([base, base + n]);
      return base;
    }
  }
  throw new Error('no free port range');
}

/** A server program for tests (etcd, NATS): started until `healthy`, killed (SIGKILL by default: an outage), started again. */
export function restartableServer(name: string, argv: string[], healthy: () => Promise<boolean>) {
  let proc: ChildProcess | undefined;
  const start = async () => {
    const [cmd, ...args] = argv;
    let log = '';
    proc = spawn(cmd!, args, {stdio: ['ignore', 'ignore', 'pipe']});
    proc.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
    await until(async () => proc!.exitCode !== null || (await healthy()), 15_000, `${name} to serve`).catch((e: Error) => {
      throw new Error(`${e.message}\n${log}`);
    });
    if (proc.exitCode !== null) throw new Error(`${name} exited: ${log}`);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await gone;
  };
  return {start, stop};
}
