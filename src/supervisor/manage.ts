/**
 * Finding and managing running deployments through their run directories: ps, down, logs.
 */
import {closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {UserError} from '../shared/errors.js';
import {prefixer} from '../shared/output.js';
import {closestMatch} from '../shared/suggest.js';
import {sendControl} from './control.js';
import {findDeployment} from './find-deployment.js';
import {type RunEntry, isSameProcess, listRuns, logsDir, readState, removeState, runDirOf} from './run-dir.js';

export interface PsRow {
  name: string;
  status: string;
  pid: number;
  uptime: string;
  url: string;
  model: string;
  processes: {id: string; host: string; status: string; pid?: number; restarts: number; ports: Record<string, number>}[];
}

function fmtUptime(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** Running deployments (supervisor alive), as `ps` shows them. Reads only: stale state stays. */
export function listDeployments(home: string, now = Date.now()): PsRow[] {
  return listRuns(home)
    .filter((e) => e.alive)
    .map(({state: s}) => ({
      name: s.name,
      status: s.status,
      pid: s.supervisorPid,
      uptime: fmtUptime(now - s.startedAt),
      url: s.url,
      model: s.model,
      processes: s.processes.map((p) => ({id: p.id, host: p.host, status: p.status, pid: p.pid, restarts: p.restarts, ports: p.ports})),
    }));
}

/** `ps` as a table: each deployment's supervisor on its own row (with uptime and URL), then its processes under it. */
export function psTableRows(rows: readonly PsRow[]): Record<string, string | number>[] {
  return rows.flatMap((r) => [
    {name: r.name, process: 'supervisor', host: 'local', status: r.status, pid: r.pid, restarts: '', ports: '', uptime: r.uptime, url: r.url},
    ...r.processes.map((p) => ({name: '', process: p.id, host: p.host, status: p.status, pid: p.pid ?? '', restarts: p.restarts, ports: Object.values(p.ports).join(','), uptime: '', url: ''})),
  ]);
}

/** A deployment whose supervisor was gone: its state removed, and the local pids that were killed. */
export interface StaleCleanup {
  name: string;
  killedPids: number[];
}

/**
 * Cleans up after deployments whose supervisor died (e.g. SIGKILL): kills the local processes it
 * left behind, by recorded pid and start time only, and removes the state so `ps` stops listing it.
 */
export function cleanStaleDeployments(home: string): StaleCleanup[] {
  return listRuns(home)
    .filter((e) => !e.alive)
    .map(cleanStale);
}

function cleanStale(e: RunEntry): StaleCleanup {
  const killedPids = killLeftovers(e);
  removeState(e.runDir);
  return {name: e.state.name, killedPids};
}

/** Kills local processes a dead supervisor left behind, by recorded pid and start time only. */
function killLeftovers(e: RunEntry): number[] {
  const killed: number[] = [];
  for (const p of e.state.processes) {
    if (p.host !== 'local' || !isSameProcess(p.pid, p.pidStartTime)) continue;
    try {
      process.kill(-p.pid!, 'SIGKILL');
      killed.push(p.pid!);
    } catch {
      try {
        process.kill(p.pid!, 'SIGKILL');
        killed.push(p.pid!);
      } catch {}
    }
  }
  return killed;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a deployment: SIGTERM to its supervisor, which stops its processes in phases; waits, and
 * escalates to SIGKILL (supervisor and every recorded process) if it overstays.
 */
export async function down(home: string, name: string | undefined, graceMs = 15_000): Promise<{name: string; stale: boolean; forced: boolean}> {
  const e = findDeployment(home, name, {includeStale: true});
  const {state} = e;
  if (!e.alive) {
    cleanStale(e);
    return {name: state.name, stale: true, forced: false};
  }
  process.kill(state.supervisorPid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isSameProcess(state.supervisorPid, state.supervisorStartTime)) {
      removeState(e.runDir);
      return {name: state.name, stale: false, forced: false};
    }
    await sleep(50);
  }
  try {
    process.kill(state.supervisorPid, 'SIGKILL');
  } catch {}
  killLeftovers({...e, state: readState(e.runDir) ?? state});
  removeState(e.runDir);
  return {name: state.name, stale: false, forced: true};
}

export const RESTART_ROLES = ['agg', 'prefill', 'decode', 'frontend'] as const;

/**
 * Rolling restart of a running deployment's workers (or one role of them) through its supervisor's
 * control socket (control.ts). `dynamo restart agg` with one deployment running means its role.
 */
export async function restartDeployment(home: string, name: string | undefined, role: string | undefined, onLine: (line: string) => void): Promise<string> {
  if (role === undefined && name !== undefined && (RESTART_ROLES as readonly string[]).includes(name) && !listRuns(home).some((e) => e.alive && e.state.name === name)) {
    [name, role] = [undefined, name];
  }
  if (role !== undefined && !(RESTART_ROLES as readonly string[]).includes(role)) {
    const near = closestMatch(role, RESTART_ROLES);
    throw new UserError(`"${role}" is not a role${near ? ` (did you mean "${near}"?)` : ''}`, `name one of: ${RESTART_ROLES.join(', ')} (none: every worker)`);
  }
  const e = findDeployment(home, name);
  if (e.state.status !== 'ready') throw new UserError(`${e.state.name} is ${e.state.status}`, 'restart it once `dynamo ps` says ready');
  await sendControl(e.runDir, e.state.name, {op: 'restart', role}, onLine);
  return e.state.name;
}

export interface LogSelection {
  files: {label: string; file: string}[];
  runDir: string;
}

/** Log files of a deployment, optionally only those of one process or role (`agg`, `worker`, `frontend`). */
export function selectLogs(home: string, name: string | undefined, which?: string): LogSelection {
  let runDir: string;
  try {
    runDir = findDeployment(home, name, {includeStale: true}).runDir;
  } catch (err) {
    // A stopped deployment has no state but keeps its logs.
    const dir = name ? runDirOf(home, name) : undefined;
    if (!dir || !existsSync(logsDir(dir))) throw err;
    runDir = dir;
  }
  const dir = logsDir(runDir);
  const ids = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4)).sort() : [];
  const state = readState(runDir);
  const hostOf = new Map(state?.processes.map((p) => [p.id, p.host]) ?? []);
  const roleOf = new Map(state?.processes.map((p) => [p.id, p.role]) ?? []);
  const match = (id: string) =>
    !which || id === which || id.startsWith(`${which}-`) || roleOf.get(id) === which || (which === 'worker' && id !== 'frontend');
  const picked = ids.filter(match);
  if (!picked.length) {
    throw new UserError(
      which ? `no logs for "${which}" in ${runDir}` : `no logs in ${runDir}`,
      ids.length ? `available: ${ids.join(', ')}` : 'has the deployment started?',
    );
  }
  return {runDir, files: picked.map((id) => ({label: `${id}@${hostOf.get(id) ?? 'local'}`, file: join(dir, `${id}.log`)}))};
}

/** Last `n` lines of a file. */
export function lastLines(file: string, n: number): string[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}

/** The signals that end `dynamo logs -f` (Ctrl-C, or a kill): it stops following and exits 0. */
export const STOP_FOLLOWING: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * `dynamo logs`: the last `lines` of each selected log, prefixed with its process, then, with
 * `follow`, new lines as they come until one of `stopOn` arrives.
 */
export async function showLogs(home: string, opts: {name?: string; which?: string; lines: number; follow: boolean}, write: (line: string) => void, stopOn: readonly NodeJS.Signals[] = STOP_FOLLOWING): Promise<void> {
  const sel = selectLogs(home, opts.name, opts.which);
  const prefix = prefixer(sel.files.map((f) => f.label));
  for (const f of sel.files) for (const l of lastLines(f.file, opts.lines)) write(prefix(f.label, l));
  if (!opts.follow) return;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const s of stopOn) process.once(s, onSignal);
  try {
    await follow(sel.files, (label, line) => write(prefix(label, line)), stop.signal);
  } finally {
    for (const s of stopOn) process.off(s, onSignal);
  }
}

/** Follows files like `tail -f`, calling onLine for each new complete line, until the signal aborts. */
export async function follow(files: {label: string; file: string}[], onLine: (label: string, line: string) => void, signal: AbortSignal): Promise<void> {
  const offsets = new Map(files.map((f) => [f.file, existsSync(f.file) ? statSync(f.file).size : 0]));
  const rests = new Map<string, string>();
  while (!signal.aborted) {
    for (const f of files) {
      if (!existsSync(f.file)) continue;
      const size = statSync(f.file).size;
      let off = offsets.get(f.file) ?? 0;
      if (size < off) off = 0; // truncated or rotated
      if (size === off) continue;
      const buf = Buffer.alloc(size - off);
      const fd = openSync(f.file, 'r');
      readSync(fd, buf, 0, buf.length, off);
      closeSync(fd);
      offsets.set(f.file, size);
      const parts = ((rests.get(f.file) ?? '') + buf.toString()).split('\n');
      rests.set(f.file, parts.pop() ?? '');
      for (const l of parts) onLine(f.label, l);
    }
    await sleep(100);
  }
}
