/**
 * The binary travels: before `dynamo up` starts anything on an SSH host, that host gets this very
 * build at `~/.dynamo/bin/dynamo-<hash>` (the name the plan gave its processes), over the host's
 * reused SSH connection, compressed on the wire, and only when it is not there already. A host
 * that refuses SSH, has another CPU architecture or too little disk fails here, naming the host and
 * the fix, before any process starts.
 *
 * `shipDecision` is the pure part (what the host said → what to do); the rest is IO.
 */
import {createHash} from 'node:crypto';
import {createReadStream, statSync} from 'node:fs';
import {arch} from 'node:os';
import {createGzip} from 'node:zlib';
import {execa} from 'execa';
import type {SshHost} from '../config/schema.js';
import {sshArgv, unreachableHost} from '../process/ssh.js';
import {ExternalError, UserError} from '../shared/errors.js';

/** Where shipped builds live, relative to the remote home (ssh runs commands there). */
export const REMOTE_BIN_DIR = '.dynamo/bin';
export const shippedPath = (binaryId: string) => `${REMOTE_BIN_DIR}/dynamo-${binaryId}`;

/** uname -m's names for node's architectures. */
const UNAME: Record<string, string[]> = {x64: ['x86_64', 'amd64'], arm64: ['aarch64', 'arm64']};

const ids = new Map<string, Promise<string>>();

/** A build's id: the first 16 hex digits of its SHA-256 (hashed once per file version: planning and shipping both ask). */
export function binaryIdOf(path: string): Promise<string> {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  let id = ids.get(key);
  if (!id) {
    const h = createHash('sha256');
    id = new Promise((resolve, reject) => {
      createReadStream(path)
        .on('data', (c) => h.update(c))
        .on('error', reject)
        .on('end', () => resolve(h.digest('hex').slice(0, 16)));
    });
    ids.set(key, id);
  }
  return id;
}

/** What the probe over SSH printed: `uname -m`, free KiB in the home's filesystem, and whether the build is there. */
export interface HostProbe {
  machine: string;
  freeKib: number;
  present: boolean;
}

export function parseProbe(stdout: string): HostProbe | undefined {
  const [machine, free, present] = stdout.trim().split('\n').map((l) => l.trim());
  const freeKib = Number(free);
  if (!machine || !Number.isFinite(freeKib) || (present !== 'present' && present !== 'missing')) return undefined;
  return {machine, freeKib, present: present === 'present'};
}

export type ShipDecision = {action: 'keep'} | {action: 'copy'} | {action: 'refuse'; error: UserError};

export function shipDecision(hostName: string, probe: HostProbe, local: {arch: string; bytes: number}): ShipDecision {
  const accepted = UNAME[local.arch] ?? [local.arch];
  if (!accepted.includes(probe.machine)) {
    return {
      action: 'refuse',
      error: new UserError(`host ${hostName} is ${probe.machine}; this dynamo binary is built for ${accepted[0]}`, `build dynamo for ${probe.machine}, put it on ${hostName} and set hosts.${hostName}.dynamoPath to it`),
    };
  }
  if (probe.present) return {action: 'keep'};
  // Room for the binary and its temporary copy's slack.
  const need = Math.ceil((local.bytes * 11) / 10 / 1024);
  if (probe.freeKib < need) {
    return {
      action: 'refuse',
      error: new UserError(
        `host ${hostName} has ${Math.floor(probe.freeKib / 1024)} MiB free in its home; the dynamo binary needs ${Math.ceil(need / 1024)} MiB`,
        `free space in the home of the SSH user on ${hostName}, or put dynamo elsewhere and set hosts.${hostName}.dynamoPath`,
      ),
    };
  }
  return {action: 'copy'};
}

const PROBE = (id: string) => `uname -m; df -Pk "$HOME" | awk 'NR==2 {print $4}'; if [ -x ${shippedPath(id)} ]; then echo present; else echo missing; fi`;
const INSTALL = (id: string) => `mkdir -p ${REMOTE_BIN_DIR} && gzip -dc > ${shippedPath(id)}.part && chmod 755 ${shippedPath(id)}.part && mv -f ${shippedPath(id)}.part ${shippedPath(id)}`;

/** Makes sure `host` has this build; says what it did. */
export async function shipBinary(hostName: string, host: SshHost, controlDir: string, local: {path: string; id: string}): Promise<'kept' | 'copied'> {
  const [ssh, ...probeArgs] = sshArgv(host, controlDir, PROBE(local.id));
  const r = await execa(ssh!, probeArgs, {reject: false, timeout: 30_000, stdin: 'ignore'});
  if (r.exitCode === 255 || r.failed) throw unreachableHost(hostName, String(r.stderr || r.message || ''));
  const probe = parseProbe(r.stdout);
  if (!probe) throw new ExternalError(`host ${hostName} answered the binary check unexpectedly: ${r.stdout.trim() || r.stderr.trim()}`, {host: hostName});
  const decision = shipDecision(hostName, probe, {arch: arch(), bytes: statSync(local.path).size});
  if (decision.action === 'refuse') throw decision.error;
  if (decision.action === 'keep') return 'kept';
  const [ssh2, ...installArgs] = sshArgv(host, controlDir, INSTALL(local.id));
  const copy = execa(ssh2!, installArgs, {reject: false, stdin: 'pipe', timeout: 15 * 60_000});
  createReadStream(local.path).pipe(createGzip({level: 1})).pipe(copy.stdin!);
  const done = await copy;
  if (done.exitCode !== 0) throw new ExternalError(`copying dynamo to ${hostName} failed: ${done.stderr.trim().split('\n').pop() ?? `exit ${done.exitCode}`}`, {host: hostName, exitCode: done.exitCode});
  return 'copied';
}
