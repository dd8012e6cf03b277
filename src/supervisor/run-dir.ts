/**
 * The run directory (`$DYN_HOME/runs/<name>/`, default `~/.dynamo`) is how `ps`, `logs`, `down` and
 * `top` find a deployment: state.json (supervisor pid, url, processes with pids and ports) and
 * logs/<process>.log. State is written atomically; a state whose supervisor is dead is stale.
 */
import {existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type {ProcessState} from './supervisor.js';

export interface RunProcess extends ProcessState {
  role: string;
  ports: Record<string, number>;
  /** Where its ports are reached (a remote host's advertise address; 127.0.0.1 here). */
  address?: string;
  logFile: string;
  /** Kernel start time of pid (from /proc), to never signal a recycled pid. */
  pidStartTime?: string;
}

export interface RunState {
  name: string;
  supervisorPid: number;
  supervisorStartTime?: string;
  status: 'starting' | 'ready' | 'stopping';
  startedAt: number;
  url: string;
  model: string;
  configFile?: string;
  processes: RunProcess[];
}

export function dynamoHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.DYN_HOME ?? join(homedir(), '.dynamo');
}

export const runsDir = (home: string) => join(home, 'runs');
export const runDirOf = (home: string, name: string) => join(runsDir(home), name);
/** A deployment's run directory on an SSH host, relative to the SSH user's home (remote commands start there). */
export const remoteRunDirOf = (name: string) => runDirOf('.dynamo', name);
/** The SSH control sockets of every deployment under `home` (process/ssh.ts). */
export const sshControlDirOf = (home: string) => join(home, 'ssh');
/** The run's request-plane token (mode 0600; runtime/request-plane/token.ts). */
export const requestPlaneTokenFile = (runDir: string) => join(runDir, 'request-plane.token');
export const stateFile = (runDir: string) => join(runDir, 'state.json');
export const logsDir = (runDir: string) => join(runDir, 'logs');

export function writeState(runDir: string, state: RunState): void {
  mkdirSync(runDir, {recursive: true});
  const tmp = `${stateFile(runDir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, stateFile(runDir));
}

export function readState(runDir: string): RunState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(runDir), 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

export function removeState(runDir: string): void {
  rmSync(stateFile(runDir), {force: true});
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined where /proc is absent. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Is `pid` alive, and (when known) still the same process we recorded? */
export function isSameProcess(pid: number | undefined, startTime?: string): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (startTime === undefined) return true;
  const now = procStartTime(pid);
  return now === undefined || now === startTime;
}

export interface RunEntry {
  runDir: string;
  state: RunState;
  alive: boolean;
}

/** Every deployment with a state file, and whether its supervisor is still alive. */
export function listRuns(home: string): RunEntry[] {
  const dir = runsDir(home);
  if (!existsSync(dir)) return [];
  const out: RunEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    const runDir = join(dir, name);
    const state = readState(runDir);
    if (state) out.push({runDir, state, alive: isSameProcess(state.supervisorPid, state.supervisorStartTime)});
  }
  return out;
}

/** Keeps the previous run's logs as logs.prev when a deployment of the same name starts again. */
export function rotateLogs(runDir: string): void {
  const logs = logsDir(runDir);
  if (!existsSync(logs)) return;
  const prev = join(runDir, 'logs.prev');
  rmSync(prev, {recursive: true, force: true});
  renameSync(logs, prev);
}
