import {execFileSync} from 'node:child_process';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {closeSshMasters} from '../src/process/child.js';
import type {ProcessSpec} from '../src/supervisor/plan.js';
import {controlPath} from '../src/process/ssh.js';
import {Supervisor} from '../src/supervisor/supervisor.js';
import {BINARY, fixture, fixturePlan, freePort, pidAlive, pidsIn, requireBinary, tempDir, until} from './helpers/processes.js';
import {type LoopbackSshd, requireSshd, startSshd} from './helpers/sshd.js';

describe('processes on an SSH host (loopback sshd)', () => {
  requireBinary();
  requireSshd();
  let sshd: LoopbackSshd;
  beforeAll(async () => {
    sshd = await startSshd(BINARY);
  });
  afterAll(() => sshd?.stop());

  async function remotePlan(dir: string) {
    const port = await freePort();
    const spec: ProcessSpec = {
      id: 'agg-0',
      role: 'worker',
      workerRole: 'agg',
      host: {name: 'gpu1', ssh: sshd.host},
      // Runs on the host through its dynamo binary; the env travels in the remote command line.
      argv: [BINARY, 'tether', '--grace-ms', '300', '--', process.execPath, fixture('server.mjs')],
      env: {PORT: String(port), NOTE: "it's a 'quoted' value"},
      ports: {http: port},
      readiness: {address: '127.0.0.1', port, httpPath: '/health', timeoutMs: 20_000},
      dependsOn: [],
      restart: {maxRestarts: 0, backoffMs: 100, backoffMaxMs: 100, stableMs: 1000},
     
      logFile: join(dir, 'agg-0.log'),
    };
    return fixturePlan(dir, [spec], 1000);
  }

  it('starts a process over SSH, reports readiness, and stops it through the same connection', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const controlDir = join(dir, 'ssh');
    const sup = new Supervisor(await remotePlan(dir), {controlDir, onLine: (_id, l) => lines.push(l)});
    await sup.startAll();
    const state = sup.states()[0]!;
    expect(state.status).toBe('ready');
    expect(state.remotePid).toBeGreaterThan(0);
    const [fixturePid] = pidsIn(lines);
    expect(pidAlive(fixturePid!)).toBe(true);
    // The control master is up and shared.
    execFileSync('ssh', ['-o', `ControlPath=${controlPath(controlDir, sshd.host)}`, '-O', 'check', '127.0.0.1'], {stdio: 'ignore'});
    await sup.stopAll();
    expect(lines).toContain('got SIGTERM, exiting');
    await until(() => !pidAlive(fixturePid!) && !pidAlive(state.remotePid!), 5000, 'remote processes gone');
    await closeSshMasters([sshd.host], controlDir);
    expect(() => execFileSync('ssh', ['-o', `ControlPath=${controlPath(controlDir, sshd.host)}`, '-O', 'check', '127.0.0.1'], {stdio: 'ignore'})).toThrow();
  });

  it('the remote process stops by itself when the SSH session drops', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const controlDir = join(dir, 'ssh');
    const sup = new Supervisor(await remotePlan(dir), {controlDir, onLine: (_id, l) => lines.push(l)});
    await sup.startAll();
    const [fixturePid] = pidsIn(lines);
    // Kill the local ssh client, as if the supervisor's machine lost the connection.
    process.kill(sup.states()[0]!.pid!, 'SIGKILL');
    await until(() => !pidAlive(fixturePid!), 10_000, 'remote fixture to exit');
    await sup.stopAll();
    await closeSshMasters([sshd.host], controlDir);
  });

  it('refuses a host whose key is unknown (host key checking stays on)', async () => {
    const dir = tempDir();
    const plan = await remotePlan(dir);
    const spec = plan.processes[0]!;
    if ('ssh' in spec.host) spec.host.ssh = {...spec.host.ssh, knownHostsFile: join(dir, 'empty_known_hosts')};
    spec.readiness.timeoutMs = 10_000;
    const sup = new Supervisor(plan, {controlDir: join(dir, 'ssh')});
    const e = await sup.startAll().catch((x: Error & {failure?: {logTail?: string[]}}) => x);
    expect(String(e?.message)).toContain('agg-0 exited before it was ready');
    expect((e as {failure: {logTail: string[]}}).failure.logTail.join('\n')).toMatch(/Host key verification failed/);
  });
});
