/**
 * SSH transport, through the system `ssh` client so users' keys, agents and ~/.ssh/config just work.
 * - One ControlMaster connection per host is reused by every session (a fresh connection costs ~0.6 s).
 * - Host key checking stays on: unknown hosts fail with ssh's own message, never silently accepted.
 * - Remote commands are single-quoted word by word, so no argument is ever re-split or expanded.
 * - The remote shell prints its pid before exec'ing the command; that pid leads the session's process
 *   group (sshd starts each session with setsid), so stop = `kill -TERM -- -PID` through the same master.
 */
import {createHash} from 'node:crypto';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import type {SshHost} from '../config/schema.js';
import {UserError} from '../shared/errors.js';
import {SECRET_ENV} from '../shared/secrets.js';

/** Quote one word for a POSIX shell. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export const REMOTE_PID_MARKER = '__dynamo_remote_pid';

/** The remote shell command that execs the program with its environment. */
export function remoteExec(argv: readonly string[], env: Record<string, string> = {}): string {
  const envWords = Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`));
  return ['exec', ...(envWords.length ? ['env', ...envWords] : []), ...argv.map(shellQuote)].join(' ');
}

/**
 * The remote shell command of a supervised process: report pid, read its secrets from standard
 * input (`secretInput`; argv, here in ssh's and there in sh's, is world-readable in `ps`), then
 * exec the program with its environment.
 */
export function remoteCommand(argv: readonly string[], env: Record<string, string>): string {
  const secret = Object.keys(env).filter((k) => SECRET_ENV.has(k));
  const plain = Object.fromEntries(Object.entries(env).filter(([k]) => !SECRET_ENV.has(k)));
  const reads = secret.map((k) => `IFS= read -r ${k} && export ${k} && `).join('');
  return `echo ${REMOTE_PID_MARKER} $$; ${reads}${remoteExec(argv, plain)}`;
}

/** What the local side writes to the remote command's standard input: its secrets, a line each, in remoteCommand's order. */
export function secretInput(env: Record<string, string>): string {
  return Object.entries(env)
    .filter(([k]) => SECRET_ENV.has(k))
    .map(([k, v]) => {
      if (/[\r\n]/.test(v)) throw new UserError(`${k} holds a line break`, 'use a value on one line');
      return `${v}\n`;
    })
    .join('');
}

/** Where the control socket lives: short, because unix socket paths are limited to ~100 bytes. */
export function controlPath(controlDir: string, host: SshHost): string {
  const id = createHash('sha1').update(`${host.user ?? ''}@${host.address}:${host.port}`).digest('hex').slice(0, 12);
  return join(controlDir, id);
}

export function sshBaseArgs(host: SshHost, controlDir: string): string[] {
  const args = [
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${controlPath(controlDir, host)}`,
    '-o',
    'ControlPersist=60',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(host.port),
  ];
  if (host.identityFile) args.push('-i', host.identityFile, '-o', 'IdentitiesOnly=yes');
  if (host.knownHostsFile) args.push('-o', `UserKnownHostsFile=${host.knownHostsFile}`);
  if (host.user) args.push('-l', host.user);
  return args;
}

/** argv for running `remote` (an already-quoted shell command) on the host. */
export function sshArgv(host: SshHost, controlDir: string, remote: string): string[] {
  return ['ssh', ...sshBaseArgs(host, controlDir), host.address, '--', remote];
}

/** argv that closes the host's control master (so no ssh process outlives the deployment). */
export function sshExitMasterArgv(host: SshHost, controlDir: string): string[] {
  return ['ssh', ...sshBaseArgs(host, controlDir), '-O', 'exit', host.address];
}

export function ensureControlDir(dir: string): string {
  mkdirSync(dir, {recursive: true, mode: 0o700});
  return dir;
}

/** The error for a host `ssh` could not log in to (ssh exits 255); `stderr` is what ssh said. */
export function unreachableHost(hostName: string, stderr: string): UserError {
  const said = stderr.trim().split('\n').pop();
  return new UserError(`cannot reach host ${hostName} over SSH: ${said}`, `check hosts.${hostName} (address, port, user, identityFile, knownHostsFile) and that \`ssh\` to it works without a password`);
}
