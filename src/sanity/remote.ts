/**
 * Sanity on an SSH host: run `<dynamo> sanity --json --local <args>` there through the SSH layer
 * `dynamo up` uses (process/ssh.ts: ControlMaster shared with the deployment, BatchMode, host key
 * checking on, every word quoted), read its report, and give back its results as this host's. The
 * dynamo is the one `up` runs there (remote-binary.ts): its dynamoPath, else this build, shipped to
 * ~/.dynamo/bin first. Whatever goes wrong on the way (no connection, a build that cannot go there,
 * no dynamo, no report) is one failed result that says what and how to fix it, so a dead host never
 * hides the others.
 */
import type {SshHost} from '../config/schema.js';
import {dynamoHome, sshControlDirOf} from '../supervisor/run-dir.js';
import {ensureControlDir, remoteExec, sshArgv} from '../process/ssh.js';
import type {CheckResult, CommandResult} from './check.js';
import {runCommand} from './facts/run.js';
import {type ShipThisBuild, dynamoOn} from './remote-binary.js';
import {sanityReportSchema} from './report.js';

/** Runs argv locally within a timeout and never throws (facts/run.ts's runCommand by default; tests inject answers). */
export type RemoteExec = (argv: string[], timeoutMs: number, input?: string) => Promise<CommandResult>;

export interface RemoteSanityOptions {
  /** SSH control sockets; default the one `dynamo up` uses (~/.dynamo/ssh). */
  controlDir?: string;
  /** Connection (10 s at most) plus the remote run. */
  timeoutMs?: number;
  /** Standard input of the remote command (the deployment's config, for `--config -`). */
  input?: string;
  /** Puts this build on a host without dynamoPath (remote-binary.ts by default; tests inject). */
  ship?: ShipThisBuild;
}

export const REMOTE_TIMEOUT_MS = 30_000;

const defaultExec: RemoteExec = (argv, timeoutMs, input) => runCommand(argv[0]!, argv.slice(1), timeoutMs, input);

const lastLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop() ?? '';

function target(ssh: SshHost): string {
  return `${ssh.user ? `${ssh.user}@` : ''}${ssh.address}${ssh.port !== 22 ? ` -p ${ssh.port}` : ''}`;
}

/** The one result a host gets when its report cannot be had. */
function unreachable(host: string, finding: string, fix: string): CheckResult[] {
  return [{id: 'remote.ssh', area: 'system', title: 'Reachable over SSH', host, status: 'fail', finding, fix, durationMs: 0}];
}

/** The one result of a host this build could not be shipped to (what `up` would refuse with, as a line). */
function notShipped(host: string, e: unknown): CheckResult[] {
  const message = e instanceof Error ? e.message : String(e);
  const hint = (e as {hint?: string}).hint ?? `set hosts.${host}.dynamoPath to a dynamo on that host`;
  // The ship probe is the host's first SSH contact: a dead host is reported as such.
  if (/^cannot reach host /.test(message)) return unreachable(host, message, hint);
  return [{id: 'remote.dynamo', area: 'system', title: 'This dynamo on the host', host, status: 'fail', finding: message, fix: hint, durationMs: 0}];
}

/** A remote `dynamo sanity --json --local` report's results, as `host`'s; undefined when stdout holds no report. */
export function parseRemoteReport(host: string, stdout: string): CheckResult[] | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(stdout.slice(start));
  } catch {
    return undefined;
  }
  const r = sanityReportSchema.safeParse(raw);
  if (!r.success) return undefined;
  return r.data.hosts.flatMap((h) => h.results.map((x) => ({...x, host})));
}

/** Runs sanity on one SSH host; never throws. */
export async function runRemoteSanity(
  hostName: string,
  ssh: SshHost,
  args: string[],
  exec: RemoteExec = defaultExec,
  opts: RemoteSanityOptions = {},
): Promise<CheckResult[]> {
  const controlDir = opts.controlDir ?? ensureControlDir(sshControlDirOf(dynamoHome()));
  const timeoutMs = opts.timeoutMs ?? REMOTE_TIMEOUT_MS;
  let dynamo: string;
  try {
    dynamo = await dynamoOn(hostName, ssh, controlDir, opts.ship);
  } catch (e) {
    return notShipped(hostName, e);
  }
  // With the host's environment, as its processes will have it (the engine on its PATH).
  const command = remoteExec([dynamo, 'sanity', '--json', '--local', ...args], ssh.env);
  const r = await exec(sshArgv(ssh, controlDir, command), timeoutMs, opts.input);
  const said = lastLine(r.stderr);
  const sshFix = `check that \`ssh ${target(ssh)}\` logs in without a prompt (a key or agent; the host key in known_hosts), or fix hosts.${hostName}`;
  if (!r.ok && r.code === null) {
    if (/ENOENT/.test(r.stderr)) return unreachable(hostName, `cannot reach host ${hostName} over SSH: ssh not found`, 'install the OpenSSH client (apt-get install openssh-client)');
    return unreachable(hostName, `host ${hostName} gave no report within ${Math.round(timeoutMs / 1000)} s${said ? `: ${said}` : ''}`, sshFix);
  }
  const results = parseRemoteReport(hostName, r.stdout);
  if (results) return results;
  // ssh exits 255 for its own errors; a remote shell 127 when the program is not there.
  if (r.code === 255) return unreachable(hostName, `cannot reach host ${hostName} over SSH: ${said || 'ssh exited 255'}`, sshFix);
  if (r.code === 127) {
    return unreachable(
      hostName,
      `dynamo not found on ${hostName} at ${dynamo}`,
      `copy the dynamo binary there, or set hosts.${hostName}.dynamoPath to where it is`,
    );
  }
  return unreachable(
    hostName,
    `${dynamo} sanity on ${hostName} printed no report (exit ${r.code})${said ? `: ${said}` : ''}`,
    `run \`${dynamo} sanity --local\` there: its dynamo may predate \`sanity\` (update it, or set hosts.${hostName}.dynamoPath)`,
  );
}
