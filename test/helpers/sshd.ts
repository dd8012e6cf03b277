/**
 * A real OpenSSH server on 127.0.0.1 for tests: fresh host and user keys in a temp dir, key-only
 * login, and a known_hosts file so the client keeps strict host key checking on.
 * Debian's openssh-server is installed by scripts/setup.sh (the CI's first step).
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {userInfo} from 'node:os';
import {join} from 'node:path';
import type {SshHost} from '../../src/config/schema.js';
import {freePort, tempDir, until} from './processes.js';

export const SSHD = '/usr/sbin/sshd';

/** Fails (never skips) a suite when OpenSSH is missing: setup installs it, so its absence is a broken setup. */
export function requireSshd(): void {
  if (!existsSync(SSHD) || !existsSync('/usr/bin/ssh-keygen')) throw new Error(`${SSHD} or ssh-keygen is missing: run npm run setup (installs openssh-server)`);
}

export interface LoopbackSshd {
  host: SshHost;
  dir: string;
  stop(): void;
}

/** `address`: the loopback alias it listens on (127.0.0.2, … stand for other hosts); `user`: who logs in (default: this user). */
export async function startSshd(dynamoPath?: string, opts: {address?: string; user?: string} = {}): Promise<LoopbackSshd> {
  const address = opts.address ?? '127.0.0.1';
  const dir = tempDir('dyn-sshd-');
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, file)]);
  keygen('host_ed25519');
  keygen('client_ed25519');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_ed25519.pub')));
  mkdirSync('/run/sshd', {recursive: true});
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AcceptEnv none',
      '',
    ].join('\n'),
  );
  const hostKey = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[${address}]:${port} ${hostKey}\n`);
  // sshd reads the key list as the user logging in: let any user into this folder.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'authorized_keys'), 0o644);
  // -D: stay in the foreground so the test owns the process; -e: log to stderr.
  const proc = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']});
  let log = '';
  proc.stderr.on('data', (c) => (log += c));
  await until(() => /Server listening/.test(log) || proc.exitCode !== null, 10_000, 'sshd to listen');
  if (proc.exitCode !== null) throw new Error(`sshd failed: ${log}`);
  return {
    dir,
    host: {
      address,
      port,
      user: opts.user ?? userInfo().username,
      identityFile: join(dir, 'client_ed25519'),
      knownHostsFile: join(dir, 'known_hosts'),
      dynamoPath,
    },
    stop: () => proc.kill('SIGTERM'),
  };
}

/**
 * A user of its own, with a home of its own, for a test host: what lands in ~ on "another host"
 * lands there. Its password is '*' rather than useradd's locked '!': sshd without PAM refuses a
 * locked account even with a key. `remove` ends its sessions and deletes it.
 */
export function hostUser(name: string): {user: string; home: string; remove(): Promise<void>} {
  const home = tempDir(`dyn-home-${name}-`);
  execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', '-p', '*', name]);
  const id = (flag: string) => Number(execFileSync('id', [flag, name]).toString().trim());
  chownSync(home, id('-u'), id('-g'));
  return {
    user: name,
    home,
    async remove() {
      spawnSync('pkill', ['-u', name]);
      await new Promise((r) => setTimeout(r, 300));
      spawnSync('pkill', ['-9', '-u', name]);
      spawnSync('userdel', [name]);
    },
  };
}

/** Another host for a deployment test: its own user and home, an sshd on its own loopback alias, and its `hosts:` entry. */
export interface TestHost {
  user: string;
  home: string;
  sshd: LoopbackSshd;
  /** Its entry under `hosts:`, as one line of flow YAML; `env` becomes hosts.<name>.env. */
  yaml(env?: Record<string, string>): string;
  /** Kills its sshd and every process of its user (the host dies). */
  kill(): Promise<void>;
  remove(): Promise<void>;
}

export async function startTestHost(user: string, address: string): Promise<TestHost> {
  const u = hostUser(user);
  const sshd = await startSshd(undefined, {address, user: u.user});
  const h = sshd.host;
  return {
    user: u.user,
    home: u.home,
    sshd,
    yaml: (env) =>
      `{address: ${h.address}, port: ${h.port}, user: ${h.user}, identityFile: ${h.identityFile}, knownHostsFile: ${h.knownHostsFile}${env ? `, env: ${JSON.stringify(env)}` : ''}}`,
    async kill() {
      sshd.stop();
      spawnSync('pkill', ['-9', '-u', u.user]);
    },
    async remove() {
      sshd.stop();
      await u.remove();
    },
  };
}
