/**
 * Which TCP ports are in use on each host a deployment runs on: here by trying to bind, on an SSH
 * host from its /proc/net/tcp and tcp6 read over SSH (no `ss` or `netstat` needed there). A port
 * any socket listens on there counts as taken, whatever its address: an engine binds some ports on
 * every address and others on loopback. Each SSH host is read once per check.
 */
import {execa} from 'execa';
import type {DynamoConfig, SshHost} from '../config/schema.js';
import {ensureControlDir, sshArgv, unreachableHost} from '../process/ssh.js';
import {parseProcNetTcp} from '../sanity/facts/listeners.js';
import {type PortCheck, portFree} from './default-ports.js';

const READ = 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null';

/** The ports something listens on at `host`, read over SSH. */
export async function listeningPortsOn(hostName: string, host: SshHost, controlDir: string): Promise<Set<number>> {
  const [ssh, ...args] = sshArgv(host, ensureControlDir(controlDir), READ);
  const r = await execa(ssh!, args, {reject: false, timeout: 30_000, stdin: 'ignore'});
  if (r.exitCode === 255 || r.failed) throw unreachableHost(hostName, String(r.stderr || r.message || ''));
  return new Set(parseProcNetTcp(r.stdout).map((s) => s.port));
}

/** A port check over this machine and the config's SSH hosts (each read at most once). */
export function hostPortCheck(hosts: DynamoConfig['hosts'], controlDir: string): PortCheck {
  const read = new Map<string, Promise<Set<number>>>();
  return async (port, hostName) => {
    const ssh = hosts[hostName];
    if (!ssh) return portFree(port);
    let taken = read.get(hostName);
    if (!taken) read.set(hostName, (taken = listeningPortsOn(hostName, ssh, controlDir)));
    return !(await taken).has(port);
  };
}
