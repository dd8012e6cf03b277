/**
 * An SSH host's GPUs, read from here before anything starts there: `nvidia-smi -q -x` and
 * `nvidia-smi topo -m` run on the host (through the ControlMaster `dynamo up` then reuses, with the
 * host's own environment, so a PATH set in hosts.<name>.env finds its nvidia-smi) and parsed as
 * locally (smi-probe.ts). It needs nothing on the host but the driver: the dynamo binary is shipped
 * only after the plan, which needs these GPUs, is made.
 */
import type {DynamoConfig, SshHost} from '../../config/schema.js';
import {ensureControlDir, remoteExec, sshArgv, unreachableHost} from '../../process/ssh.js';
import type {CommandResult} from '../check.js';
import {runCommand} from '../facts/run.js';
import {probeGpus} from './probe.js';
import {type RunCommand, probeNvidiaSmi} from './smi-probe.js';
import type {GpuProbe} from './topology.js';

/** Connecting (10 s at most, ssh.ts) and nvidia-smi's own few hundred milliseconds. */
export const SSH_PROBE_TIMEOUT_MS = 20_000;

/** Runs argv here within a timeout, never throwing (facts/run.ts's runCommand; tests inject answers). */
export type LocalExec = (argv: string[], timeoutMs: number) => Promise<CommandResult>;

const lastLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop() ?? '';

/** The host's GPUs, or why there are none; throws when the host cannot be reached over SSH. */
export async function probeGpusOverSsh(hostName: string, ssh: SshHost, controlDir: string, exec: LocalExec = (argv, t) => runCommand(argv[0]!, argv.slice(1), t)): Promise<GpuProbe> {
  let unreachable: string | undefined;
  const run: RunCommand = async (command, args) => {
    const r = await exec(sshArgv(ssh, controlDir, remoteExec([command, ...args], ssh.env)), SSH_PROBE_TIMEOUT_MS);
    // ssh's own failures exit 255; the remote shell says 127 for a program it cannot find.
    if (r.code === 255 || (!r.ok && r.code === null)) unreachable ??= lastLine(r.stderr) || `no answer within ${SSH_PROBE_TIMEOUT_MS / 1000} s`;
    if (r.code === 127) return {ok: false, code: null, stdout: '', stderr: `${command}: not found`};
    return r;
  };
  const found = await probeNvidiaSmi(run, SSH_PROBE_TIMEOUT_MS);
  // Not a GPU finding: the host is not there, and the fix is SSH's.
  if (unreachable) throw unreachableHost(hostName, unreachable);
  if (found.state === 'no-driver') return {state: 'no-driver', reason: `nvidia-smi not found on ${hostName}`};
  return found;
}

/** Each host's GPUs for planning real engines: this machine's as `dynamo sanity` reads them, an SSH host's over SSH. */
export function hostGpuProbe(config: DynamoConfig, controlDir: string): (hostName: string) => Promise<GpuProbe> {
  return (hostName) => {
    const ssh = config.hosts[hostName];
    return ssh ? probeGpusOverSsh(hostName, ssh, ensureControlDir(controlDir)) : probeGpus({run: runCommand});
  };
}
