import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {DeploymentPlan} from '../src/supervisor/plan.js';
import {dynamo, startUntil} from './helpers/cli.js';
import {BINARY, fixture, freePort, pidAlive, pidsIn, requireBinary, tempDir, until} from './helpers/processes.js';

/** A plan of tethered fixture programs (what `up --dry-run --json` writes, with test programs). */
async function fixturePlanFile(home: string, name: string, opts: {stubborn?: boolean} = {}): Promise<{file: string; plan: DeploymentPlan}> {
  const runDir = join(home, 'runs', name);
  const [p1, p2] = [await freePort(), await freePort()];
  const tethered = (script: string) => [BINARY, 'tether', '--grace-ms', '300', '--', process.execPath, fixture(script)];
  const base = {host: {name: 'local' as const}, restart: {maxRestarts: 2, backoffMs: 100, backoffMaxMs: 1000, stableMs: 30_000}};
  const plan: DeploymentPlan = {
    name,
    runDir,
    model: 'fixture',
    url: `http://127.0.0.1:${p2}`,
    stopGraceMs: 500,
    processes: [
      {...base, id: 'agg-0', role: 'worker', workerRole: 'agg', argv: tethered('server.mjs'), env: {PORT: String(p1)}, ports: {http: p1}, readiness: {address: '127.0.0.1', port: p1, httpPath: '/health', timeoutMs: 15_000}, dependsOn: [], logFile: join(runDir, 'logs/agg-0.log')},
      opts.stubborn
        ? {...base, id: 'stubborn', role: 'external', argv: tethered('stubborn.mjs'), env: {}, ports: {}, readiness: {address: '127.0.0.1', logLine: 'stubborn ready', timeoutMs: 15_000}, dependsOn: [], logFile: join(runDir, 'logs/stubborn.log')}
        : {...base, id: 'frontend', role: 'frontend', argv: tethered('server.mjs'), env: {PORT: String(p2)}, ports: {http: p2}, readiness: {address: '127.0.0.1', port: p2, httpPath: '/health', timeoutMs: 15_000}, dependsOn: ['agg-0'], logFile: join(runDir, 'logs/frontend.log')},
    ],
  };
  const file = join(home, `${name}.plan.json`);
  writeFileSync(file, JSON.stringify(plan));
  return {file, plan};
}

function fixturePids(plan: DeploymentPlan): number[] {
  return pidsIn(plan.processes.flatMap((p) => readFileSync(p.logFile, 'utf8').split('\n')));
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

describe('dynamo up (built binary, fixture processes)', () => {
  requireBinary();
  it('streams prefixed output once ready, and Ctrl-C stops everything (checked by pid)', async () => {
    const home = tempDir();
    const {file, plan} = await fixturePlanFile(home, 'ctrlc');
    const env = {DYN_HOME: home};
    const up = await startUntil(['up', '--plan', file], /ready in/, {env});
    cleanup.push(() => up.child.kill('SIGKILL'));
    await until(() => /agg-0@local +│ listening on \d+/.test(up.output()), 10_000, 'prefixed line');
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env})).stdout);
    expect(ps).toHaveLength(1);
    expect(ps[0].processes.map((p: {id: string; status: string}) => `${p.id}:${p.status}`)).toEqual(['agg-0:ready', 'frontend:ready']);
    const pids = [...fixturePids(plan), ...ps[0].processes.map((p: {pid: number}) => p.pid), ps[0].pid];
    expect(pids.length).toBe(5);
    up.child.kill('SIGINT');
    const r = await up.child;
    expect(r.exitCode).toBe(130);
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    expect(JSON.parse((await dynamo(['ps', '--json'], {env})).stdout)).toEqual([]);
    // Logs stay after the stop.
    const logs = await dynamo(['logs', 'agg', '--name', 'ctrlc'], {env});
    expect(logs.stdout).toMatch(/agg-0@local │ got SIGTERM, exiting/);
  });

  it('children stop by themselves when up is killed with SIGKILL', async () => {
    const home = tempDir();
    const {file, plan} = await fixturePlanFile(home, 'killed');
    const up = await startUntil(['up', '--plan', file], /ready in/, {env: {DYN_HOME: home}});
    const pids = fixturePids(plan);
    expect(pids).toHaveLength(2);
    up.child.kill('SIGKILL');
    await up.child;
    await until(() => pids.every((p) => !pidAlive(p)), 10_000, 'orphaned fixtures to exit');
    // The next ps notices the dead supervisor and cleans its state.
    const ps = await dynamo(['ps'], {env: {DYN_HOME: home}});
    expect(ps.stderr).toContain('cleaned up stale deployment killed');
  });

  it('a second Ctrl-C forces SIGKILL on a process that ignores SIGTERM', async () => {
    const home = tempDir();
    const {file, plan} = await fixturePlanFile(home, 'force', {stubborn: true});
    plan.stopGraceMs = 60_000;
    writeFileSync(file, JSON.stringify(plan));
    const up = await startUntil(['up', '--plan', file], /ready in/, {env: {DYN_HOME: home}});
    const pids = fixturePids(plan);
    up.child.kill('SIGINT');
    const firstAt = Date.now();
    await until(() => /again to force/.test(up.output()), 5000, 'stopping notice');
    await until(() => /ignoring SIGTERM/.test(up.output()) || readFileSync(plan.processes[1]!.logFile, 'utf8').includes('ignoring SIGTERM'), 5000, 'SIGTERM ignored');
    // A second press, not a duplicate delivery of the first (signals within 250 ms count once).
    await until(() => Date.now() - firstAt > 300, 1000, 'a human pause');
    up.child.kill('SIGINT');
    await up.child;
    expect(up.output()).toContain('forcing: SIGKILL to every process');
    await until(() => pids.every((p) => !pidAlive(p)), 5000, 'all fixtures gone');
  });

  it('--detach runs in the background; ps, logs and down find it by name', async () => {
    const home = tempDir();
    const env = {DYN_HOME: home};
    const {file, plan} = await fixturePlanFile(home, 'bg');
    const up = await dynamo(['up', '--plan', file, '--detach'], {env});
    expect(up.exitCode).toBe(0);
    expect(up.stderr).toContain('running in the background');
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env})).stdout);
    expect(ps.map((r: {name: string}) => r.name)).toEqual(['bg']);
    const supervisor = ps[0].pid as number;
    const logs = await dynamo(['logs', 'frontend'], {env});
    expect(logs.stdout).toMatch(/frontend@local │ listening on/);
    const again = await dynamo(['up', '--plan', file], {env});
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('deployment "bg" is already running');
    const pids = fixturePids(plan);
    const down = await dynamo(['down', 'bg'], {env});
    expect(down.exitCode).toBe(0);
    expect(down.stderr).toContain('✔ bg stopped');
    for (const pid of [supervisor, ...pids]) expect(pidAlive(pid)).toBe(false);
  });

  it('a second deployment on the same machine needs no port flags: ports left at their defaults move past those in use', async () => {
    const home = tempDir();
    const env = {DYN_HOME: home};
    const up = async (name: string) => {
      const r = await dynamo(['up', '--model', 'qwen3-0.6b', '--name', name, '--workers', '1', '--detach'], {env, timeout: 60_000});
      expect(r.exitCode, r.stderr).toBe(0);
    };
    try {
      await up('first');
      await up('second');
      const ps = JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {name: string; url: string; processes: {ports: Record<string, number>}[]}[];
      expect(ps.map((d) => d.name).sort()).toEqual(['first', 'second']);
      const ports = ps.flatMap((d) => d.processes.flatMap((p) => Object.values(p.ports)));
      expect(new Set(ports).size).toBe(ports.length);
      for (const d of ps) expect((await fetch(`${d.url}/v1/models`)).status).toBe(200);
    } finally {
      await dynamo(['down', 'first'], {env});
      await dynamo(['down', 'second'], {env});
    }
  }, 120_000);

  it('logs -f follows new lines until Ctrl-C', async () => {
    const home = tempDir();
    const env = {DYN_HOME: home};
    const {file, plan} = await fixturePlanFile(home, 'follow');
    plan.processes[0]!.env.TICK_MS = '100';
    writeFileSync(file, JSON.stringify(plan));
    expect((await dynamo(['up', '--plan', file, '--detach'], {env})).exitCode).toBe(0);
    try {
      const logs = await startUntil(['logs', 'agg-0', '-f', '--lines', '1'], /agg-0@local │ tick \d+/, {env});
      const seen = () => [...logs.output().matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      const first = seen()[0]!;
      await until(() => seen().some((n) => n >= first + 3), 5000, 'new ticks to be followed');
      logs.child.kill('SIGINT');
      expect((await logs.child).exitCode).toBe(0);
    } finally {
      await dynamo(['down', 'follow'], {env});
    }
  });

  it('ps cleans up the state of a deployment whose supervisor died', async () => {
    const home = tempDir();
    const runDir = join(home, 'runs', 'ghost');
    mkdirSync(runDir, {recursive: true});
    writeFileSync(join(runDir, 'state.json'), JSON.stringify({name: 'ghost', supervisorPid: 2 ** 22 - 7, status: 'ready', startedAt: 0, url: 'x', model: 'm', processes: []}));
    const ps = await dynamo(['ps', '--json'], {env: {DYN_HOME: home}});
    expect(JSON.parse(ps.stdout)).toEqual([]);
    expect(ps.stderr).toContain('cleaned up stale deployment ghost');
    const down = await dynamo(['down', 'ghost'], {env: {DYN_HOME: home}});
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toContain('no deployment named "ghost"');
  });

  it('refuses to start when a port is taken, naming the port and the fix', async () => {
    const home = tempDir();
    const {file, plan} = await fixturePlanFile(home, 'busy');
    const {createServer} = await import('node:net');
    const blocker = createServer().listen(plan.processes[1]!.ports.http, '127.0.0.1');
    cleanup.push(() => blocker.close());
    await new Promise((r) => blocker.once('listening', r));
    const r = await dynamo(['up', '--plan', file], {env: {DYN_HOME: home}});
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`port ${plan.processes[1]!.ports.http} (frontend http) is already in use`);
  });
});
