/**
 * `dynamo sanity` as one service: build the deployment `dynamo up` would start with the same
 * config and flags (none when no model is given: deployment checks then skip), pick the checks
 * from the suites, run them on this host with facts probed once and, unless --local, on every
 * SSH host the plan uses (each runs `dynamo sanity --json --local` itself, see remote.ts), all at
 * the same time, and assemble one report: this host first, then the others in plan order.
 */
import {hostname as osHostname} from 'node:os';
import type {FlagValue} from '../config/load.js';
import {selfArgv as defaultSelfArgv} from '../shared/self.js';
import {dynamoHome} from '../supervisor/run-dir.js';
import type {SshHost} from '../config/schema.js';
import type {DeploymentPlan} from '../supervisor/plan.js';
import type {CheckArea, CheckResult, SanityDeployment, SanityFacts} from './check.js';
import {sanityDeployment} from './deployment.js';
import {localFacts} from './facts.js';
import {runRemoteSanity} from './remote.js';
import {type SanityReport, buildReport, hostReport} from './report.js';
import {runChecks} from './runner.js';
import {loadSuites, selectChecks} from './suites.js';

export interface RunSanityOptions {
  /** --config / DYN_CONFIG; otherwise searched for in cwd. */
  configFile?: string;
  /** The config flags given (configFlagValues), as for `dynamo up`. */
  flags: FlagValue[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  selfArgv?: string[];
  /** Slow checks too. */
  thorough?: boolean;
  /** This host only: no SSH hosts (what each remote host itself runs). */
  local?: boolean;
  /** Judge this machine as the named SSH host of the config (what a remote run is told). */
  asHost?: string;
  /** Only these areas (all when empty). */
  only?: CheckArea[];
  /** This machine's facts by default; recorded ones in tests. */
  facts?: SanityFacts;
  /** Sanity on one SSH host (remote.ts over the real ssh by default; tests give answers). */
  remote?: (hostName: string, ssh: SshHost, request: RemoteSanityRequest) => Promise<CheckResult[]>;
  now?: () => number;
}

/** The SSH hosts the plan puts processes on, once each, in plan order. */
export function sshHostsOf(plan: DeploymentPlan): {name: string; ssh: SshHost}[] {
  const seen = new Map<string, SshHost>();
  for (const p of plan.processes) if ('ssh' in p.host && !seen.has(p.host.name)) seen.set(p.host.name, p.host.ssh);
  return [...seen].map(([name, ssh]) => ({name, ssh}));
}

/** What an SSH host's `dynamo sanity` is run with, and what it reads on standard input. */
export interface RemoteSanityRequest {
  args: string[];
  input: string;
}

/**
 * An SSH host judges the same deployment: it gets the effective config on standard input
 * (`--config -`; the API key left out: sanity does not need it) and its own name (`--as-host`), so
 * it plans exactly what runs here and judges the processes placed on it, plus --thorough / --only.
 */
export function remoteSanityRequest(host: string, opts: Pick<RunSanityOptions, 'thorough' | 'only'>, deployment: SanityDeployment): RemoteSanityRequest {
  const {apiKey: _secret, ...frontend} = deployment.config.frontend;
  const args = ['--config', '-', '--as-host', host];
  if (opts.thorough) args.push('--thorough');
  if (opts.only?.length) args.push('--only', opts.only.join(','));
  return {args, input: JSON.stringify({...deployment.config, frontend})};
}

export async function runSanity(opts: RunSanityOptions): Promise<SanityReport> {
  const now = opts.now ?? (() => performance.now());
  const start = now();
  const judged = await sanityDeployment({
    home: opts.home ?? dynamoHome(opts.env),
    selfArgv: opts.selfArgv ?? defaultSelfArgv(),
    configFile: opts.configFile,
    flags: opts.flags,
    cwd: opts.cwd,
    env: opts.env,
  });
  // Without a model the runner skips the deployment checks, saying so; the GPU checks still follow the engine.
  const deployment = 'skipped' in judged ? undefined : judged;
  const engine = 'skipped' in judged ? judged.engine : judged.config.engine;
  const selected = selectChecks(loadSuites(), opts.only);
  const facts = opts.facts ?? localFacts({env: opts.env});
  const remoteHosts = deployment && !opts.local ? sshHostsOf(deployment.plan) : [];
  const remote = opts.remote ?? ((name, ssh, request) => runRemoteSanity(name, ssh, request.args, undefined, {input: request.input}));
  const [results, ...remoteResults] = await Promise.all([
    runChecks(selected, {host: opts.asHost ?? 'local', thorough: Boolean(opts.thorough), facts, deployment, engine, now}),
    ...remoteHosts.map((h) => remote(h.name, h.ssh, remoteSanityRequest(h.name, opts, deployment!))),
  ]);
  const hosts = [hostReport(opts.asHost ?? 'local', results!, osHostname()), ...remoteHosts.map((h, i) => hostReport(h.name, remoteResults[i]!))];
  return buildReport(hosts, now() - start);
}
