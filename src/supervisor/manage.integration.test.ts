/**
 * Listing and cleaning up deployments through their run directories, with real processes and
 * hand-written state files: listing only reads; the cleanup kills only what a dead supervisor
 * recorded, and only while the pid still belongs to the process it recorded.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {afterEach, describe, expect, it} from 'vitest';
import {withTimeout} from '../../test/helpers/gates.js';
import {pidAlive, tempDir} from '../../test/helpers/processes.js';
import {cleanStaleDeployments, listDeployments} from './manage.js';
import {type RunProcess, type RunState, procStartTime, runDirOf, stateFile, writeState} from './run-dir.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A long-lived process in its own group, as the supervisor starts its children. */
function sleeper(): ChildProcess & {pid: number} {
  const c = spawn('sleep', ['300'], {detached: true, stdio: 'ignore'});
  children.push(c);
  return c as ChildProcess & {pid: number};
}

const exited = (c: ChildProcess) => new Promise<NodeJS.Signals | null>((resolve) => c.once('exit', (_code, signal) => resolve(signal)));

/** A pid that was a process a moment ago and is gone now: a supervisor that died. */
const deadPid = () => spawnSync('true').pid;

function state(name: string, supervisorPid: number, processes: Partial<RunProcess>[], supervisorStartTime?: string): RunState {
  return {
    name,
    supervisorPid,
    supervisorStartTime,
    status: 'ready',
    startedAt: Date.now() - 65_000,
    url: 'http://127.0.0.1:8000',
    model: 'fixture',
    processes: processes.map((p, i) => ({id: `agg-${i}`, host: 'local', role: 'worker', status: 'ready', restarts: 0, ports: {}, logFile: '', ...p})),
  };
}

describe('listing and cleaning up deployments', () => {
  it('listing leaves a stale deployment in place; the cleanup removes it and kills only the recorded process whose start time matches', async () => {
    const home = tempDir();
    const leftover = sleeper();
    const recycled = sleeper(); // its pid was recorded for another process that has since exited
    const remote = sleeper(); // same pid number as a process on another host
    const ghostDir = runDirOf(home, 'ghost');
    writeState(
      ghostDir,
      state('ghost', deadPid(), [
        {pid: leftover.pid, pidStartTime: procStartTime(leftover.pid)},
        {pid: recycled.pid, pidStartTime: 'an earlier process'},
        {pid: remote.pid, pidStartTime: procStartTime(remote.pid), host: 'gpu1'},
      ]),
    );

    expect(listDeployments(home)).toEqual([]);
    expect(existsSync(stateFile(ghostDir))).toBe(true);
    expect([leftover, recycled, remote].every((c) => pidAlive(c.pid))).toBe(true);

    const leftoverExit = exited(leftover);
    expect(cleanStaleDeployments(home)).toEqual([{name: 'ghost', killedPids: [leftover.pid]}]);
    expect(existsSync(stateFile(ghostDir))).toBe(false);
    expect(await withTimeout(leftoverExit, 5000, 'the leftover process to die')).toBe('SIGKILL');
    expect(pidAlive(recycled.pid)).toBe(true);
    expect(pidAlive(remote.pid)).toBe(true);
    expect(cleanStaleDeployments(home)).toEqual([]);
  });

  it('lists a deployment whose supervisor is alive, and the cleanup leaves it alone', () => {
    const home = tempDir();
    const worker = sleeper();
    const dir = runDirOf(home, 'live');
    const live = state('live', process.pid, [{pid: worker.pid, pidStartTime: procStartTime(worker.pid), ports: {rpc: 8100, metrics: 8101}}], procStartTime(process.pid));
    writeState(dir, live);

    expect(cleanStaleDeployments(home)).toEqual([]);
    expect(existsSync(stateFile(dir))).toBe(true);
    expect(pidAlive(worker.pid)).toBe(true);
    expect(listDeployments(home, live.startedAt + 65_000)).toEqual([
      {
        name: 'live',
        status: 'ready',
        pid: process.pid,
        uptime: '1m5s',
        url: 'http://127.0.0.1:8000',
        model: 'fixture',
        processes: [{id: 'agg-0', host: 'local', status: 'ready', pid: worker.pid, restarts: 0, ports: {rpc: 8100, metrics: 8101}}],
      },
    ]);
  });
});
