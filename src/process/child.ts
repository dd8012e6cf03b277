/**
 * The one module that starts and signals child processes, locally (execa) or over SSH.
 * Every child gets its own process group so a stop reaches everything it started, a stdin pipe whose
 * EOF tells it the supervisor is gone, and its output split into lines for the log file and screen.
 */
import {spawn} from 'node:child_process';
import {createWriteStream, mkdirSync, openSync} from 'node:fs';
import {dirname} from 'node:path';
import {stripVTControlCharacters} from 'node:util';
import {execa} from 'execa';
import type {SshHost} from '../config/schema.js';
import {REMOTE_PID_MARKER, ensureControlDir, remoteCommand, secretInput, sshArgv, sshExitMasterArgv} from './ssh.js';

/** Where a process runs: here, or on a named host over SSH. */
export type HostRef = {name: 'local'} | {name: string; ssh: SshHost};

/** What spawning needs of a process: its argv on that host, environment and log file. */
export interface ChildSpec {
  host: HostRef;
  /** argv as run on that host; argv[0] is the executable. */
  argv: string[];
  env: Record<string, string>;
  logFile: string;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all. */
  error?: string;
}

export type Signal = 'SIGTERM' | 'SIGKILL' | 'SIGINT';

export interface ChildHandle {
  /** Local pid: the program itself, or the ssh client for a remote process. */
  pid: number;
  /** Pid of the remote process group leader (SSH only), once the remote shell reported it. */
  remotePid(): number | undefined;
  exited: Promise<ExitInfo>;
  /** Signals the whole process group (local or remote). */
  signal(sig: Signal): Promise<void>;
}

export interface SpawnOptions {
  /** Directory for SSH control sockets. */
  controlDir: string;
  onLine(line: string): void;
}

/** Splits a byte stream into lines, ANSI-stripped. */
function lineSplitter(onLine: (l: string) => void): {push(chunk: Buffer | string): void; end(): void} {
  let rest = '';
  return {
    push(chunk) {
      const parts = (rest + chunk.toString()).split(/\r?\n/);
      rest = parts.pop() ?? '';
      for (const p of parts) onLine(stripVTControlCharacters(p));
    },
    end() {
      if (rest) onLine(stripVTControlCharacters(rest));
      rest = '';
    },
  };
}

function killGroup(pid: number, sig: Signal): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function spawnChild(spec: ChildSpec, opts: SpawnOptions): ChildHandle {
  mkdirSync(dirname(spec.logFile), {recursive: true});
  const log = createWriteStream(spec.logFile, {flags: 'a'});
  const remote = 'ssh' in spec.host ? spec.host.ssh : undefined;
  let remotePid: number | undefined;

  if (remote) ensureControlDir(opts.controlDir);
  const env = {...spec.env, DYN_SUPERVISED: '1'};
  const argv = remote ? sshArgv(remote, opts.controlDir, remoteCommand(spec.argv, env)) : spec.argv;
  const child = execa(argv[0]!, argv.slice(1), {
    env: remote ? {} : {...env, DYN_PARENT_PID: String(process.pid)},
    extendEnv: true,
    detached: true,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    buffer: false,
    cleanup: false,
    windowsHide: true,
  });

  const emit = (line: string) => {
    if (remote && remotePid === undefined && line.startsWith(REMOTE_PID_MARKER)) {
      remotePid = Number(line.slice(REMOTE_PID_MARKER.length).trim());
      return;
    }
    log.write(`${line}\n`);
    opts.onLine(line);
  };
  const out = lineSplitter(emit);
  const err = lineSplitter(emit);
  child.stdout?.on('data', (c) => out.push(c));
  child.stderr?.on('data', (c) => err.push(c));
  child.stdin?.on('error', () => {}); // EPIPE when the child exits first is expected
  if (remote) child.stdin?.write(secretInput(env));

  const exited: Promise<ExitInfo> = child.then((r) => {
    out.end();
    err.end();
    const spawnError = r.failed && r.exitCode === undefined && !r.signal ? (r.cause as Error | undefined)?.message ?? r.message : undefined;
    if (spawnError) emit(`[dynamo] could not start ${argv[0]}: ${spawnError}`);
    log.end();
    return {code: r.exitCode ?? null, signal: r.signal ?? null, error: spawnError};
  });

  const pid = child.pid ?? -1;
  return {
    pid,
    remotePid: () => remotePid,
    exited,
    async signal(sig) {
      if (!remote) {
        if (pid > 0) killGroup(pid, sig);
        return;
      }
      if (remotePid !== undefined) {
        const [ssh, ...args] = sshArgv(remote, opts.controlDir, `kill -${sig.slice(3)} -- -${remotePid}`);
        await execa(ssh!, args, {reject: false, timeout: 10_000});
      }
      // The local ssh client goes too on SIGKILL, and when the remote pid never arrived.
      if (sig === 'SIGKILL' || remotePid === undefined) killGroup(pid, sig);
    },
  };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Escalating stop: SIGTERM to the group, up to `graceMs` to exit, then SIGKILL.
 * Afterwards the group gets a SIGKILL anyway, so nothing the child started outlives it.
 */
export async function stopChild(h: ChildHandle, graceMs: number): Promise<ExitInfo> {
  const settled = await Promise.race([h.exited, delay(0).then(() => undefined)]);
  if (!settled) {
    await h.signal('SIGTERM');
    const first = await Promise.race([h.exited, delay(graceMs).then(() => undefined)]);
    if (!first) await h.signal('SIGKILL');
  }
  const info = await h.exited;
  if (h.remotePid() === undefined) killGroup(h.pid, 'SIGKILL');
  return info;
}

/** Starts a program in its own session, output to `logFile`, not waited for (used by `up --detach`). */
export function spawnDetached(argv: string[], logFile: string, env: Record<string, string>): {pid: number; exited: Promise<void>} {
  const fd = openSync(logFile, 'w');
  const child = spawn(argv[0]!, argv.slice(1), {detached: true, stdio: ['ignore', fd, fd], env: {...process.env, ...env}});
  child.unref();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {pid: child.pid ?? -1, exited};
}

/** Closes the SSH control masters of these hosts, so no ssh process outlives the deployment. */
export async function closeSshMasters(hosts: SshHost[], controlDir: string): Promise<void> {
  await Promise.all(
    hosts.map((h) => {
      const [ssh, ...args] = sshExitMasterArgv(h, controlDir);
      return execa(ssh!, args, {reject: false, timeout: 5000});
    }),
  );
}
