/**
 * `dynamo up` as a service: pre-flight checks, run directory, supervised startup with a task list,
 * log streaming, signals (Ctrl-C stops in phases, a second Ctrl-C kills), and `--detach`.
 */
import {randomBytes} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {get as httpGet} from 'node:http';
import {get as httpsGet} from 'node:https';
import type {Server} from 'node:net';
import {join} from 'node:path';
import {ProcessOutput} from 'listr2';
import type {SshHost} from '../config/schema.js';
import {ExternalError, UserError} from '../shared/errors.js';
import {isCompiledBinary} from '../shared/self.js';
import {err, out, prefixer} from '../shared/output.js';
import type {DeploymentPlan} from './plan.js';
import {
  type RunState,
  isSameProcess,
  procStartTime,
  readState,
  removeState,
  rotateLogs,
  requestPlaneTokenFile,
  runDirOf,
  sshControlDirOf,
  writeState,
} from './run-dir.js';
import {closeSshMasters, spawnDetached} from '../process/child.js';
import {ensureControlDir} from '../process/ssh.js';
import {serveControl} from './control.js';
import {REQUEST_PLANE_TOKEN_ENV} from '../runtime/request-plane/token.js';
import {portFree} from './default-ports.js';
import {hostPortCheck} from './host-ports.js';
import {REMOTE_BIN_DIR, binaryIdOf, shipBinary} from './ship.js';
import {startupTasks} from './startup-tasks.js';
import {type ProcessState, Supervisor} from './supervisor.js';

export interface UpOptions {
  plan: DeploymentPlan;
  home: string;
  configFile?: string;
  /** Print child output prefixed on stdout (off when detached: it is in the log files). */
  echo: boolean;
}


export function assertNotRunning(home: string, name: string): void {
  const state = readState(runDirOf(home, name));
  if (state && isSameProcess(state.supervisorPid, state.supervisorStartTime)) {
    throw new UserError(
      `deployment "${name}" is already running (supervisor pid ${state.supervisorPid}, ${state.url})`,
      `stop it with \`dynamo down ${name}\`, or start another with --name and a different --port`,
    );
  }
}

async function preflightPorts(plan: DeploymentPlan, controlDir: string): Promise<void> {
  const remote = hostPortCheck(Object.fromEntries(sshHostsOf(plan)), controlDir);
  for (const p of plan.processes) {
    for (const [what, port] of Object.entries(p.ports)) {
      if (!(await ('ssh' in p.host ? remote(port, p.host.name) : portFree(port, p.readiness.address)))) {
        throw new UserError(
          `port ${port} (${p.id} ${what}) is already in use${'ssh' in p.host ? ` on host ${p.host.name}` : ''}`,
          p.role === 'frontend' ? 'stop what holds it (`dynamo ps`), or pick another with --port' : 'stop what holds it (`dynamo ps`), or move workers.basePort',
        );
      }
    }
  }
}

function toRunState(plan: DeploymentPlan, status: RunState['status'], states: ProcessState[], configFile?: string): RunState {
  const byId = new Map(states.map((s) => [s.id, s]));
  return {
    name: plan.name,
    supervisorPid: process.pid,
    supervisorStartTime: procStartTime(process.pid),
    status,
    startedAt: Date.now(),
    url: plan.url,
    model: plan.model,
    configFile,
    processes: plan.processes.map((spec) => {
      const s = byId.get(spec.id) ?? {id: spec.id, host: spec.host.name, status: 'pending' as const, restarts: 0};
      return {...s, role: spec.workerRole ?? spec.role, ports: spec.ports, address: spec.readiness.address, logFile: spec.logFile, pidStartTime: s.pid ? procStartTime(s.pid) : undefined};
    }),
  };
}

/** The plan's SSH hosts by name. */
function sshHostsOf(plan: DeploymentPlan): Map<string, SshHost> {
  return new Map(plan.processes.flatMap((p) => ('ssh' in p.host ? [[p.host.name, p.host.ssh] as const] : [])));
}

/** Gives every SSH host whose processes run the shipped build (ship.ts) this very build, before anything starts. */
async function shipToHosts(plan: DeploymentPlan, controlDir: string): Promise<void> {
  const hosts = new Map<string, {ssh: SshHost; id: string}>();
  const prefix = `${REMOTE_BIN_DIR}/dynamo-`;
  for (const p of plan.processes) if ('ssh' in p.host && p.argv[0]?.startsWith(prefix)) hosts.set(p.host.name, {ssh: p.host.ssh, id: p.argv[0].slice(prefix.length)});
  if (!hosts.size) return;
  if (!isCompiledBinary()) throw new UserError('only the compiled dynamo binary can be copied to SSH hosts', 'run dist/dynamo (npm run build), or set hosts.<name>.dynamoPath to a dynamo on each host');
  const id = await binaryIdOf(process.execPath);
  for (const [name, want] of hosts) {
    if (want.id !== id) throw new UserError(`the plan runs dynamo build ${want.id} on ${name}, and this binary is build ${id}`, 'plan again with this binary (`dynamo up --dry-run --json`), or set hosts.<name>.dynamoPath');
    const did = await shipBinary(name, want.ssh, controlDir, {path: process.execPath, id});
    err(`  dynamo on ${name}: ${did === 'kept' ? 'this build is there' : 'this build copied'} (~/${REMOTE_BIN_DIR}/dynamo-${id})`);
  }
}

/** A fresh request-plane token for this run, kept in the run directory (only its user can read it). */
function newRequestPlaneToken(runDir: string): string {
  const token = randomBytes(24).toString('hex');
  mkdirSync(runDir, {recursive: true});
  writeFileSync(requestPlaneTokenFile(runDir), token, {mode: 0o600});
  return token;
}

/** `dynamo restart`: the processes of `role` (default: every worker), one at a time. */
async function rollingRestart(sup: Supervisor, plan: DeploymentPlan, role: string | undefined, say: (line: string) => void): Promise<void> {
  const roles = [...new Set(plan.processes.flatMap((p) => (p.workerRole ? [p.workerRole] : [])))];
  const ids = plan.processes.filter((p) => (role === undefined ? p.role === 'worker' : role === 'frontend' ? p.role === 'frontend' : p.workerRole === role)).map((p) => p.id);
  if (!ids.length) throw new UserError(`${plan.name} has no ${role} process to restart`, `name one of: ${[...roles, 'frontend'].join(', ')} (none: every worker)`);
  const lone = role === 'frontend' ? 'the frontend' : ids.length === 1 ? `${ids[0]} is the only ${role ?? 'worker'}` : undefined;
  if (lone) say(`${lone}: requests get 503 while it restarts`);
  say(`restarting ${ids.join(', ')} one at a time`);
  const frontend = plan.processes.find((p) => p.role === 'frontend');
  await sup.restartInTurn(ids, say, async (id) => {
    if (!frontend || id === frontend.id) return;
    if (!(await frontendRoutesTo(plan, id, 15_000))) say(`${id} is ready, but the frontend has not listed it within 15 s; going on`);
  });
}

/** Whether the frontend's /health lists worker `id` within `timeoutMs` (its view follows discovery). */
async function frontendRoutesTo(plan: DeploymentPlan, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const h = (await getOwnJson(`${plan.url}/health`).catch(() => undefined)) as {workers?: {id: string}[]} | undefined;
    if (h?.workers?.some((w) => w.id === id)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** GET a JSON document from a process of this deployment: over HTTPS its certificate is not checked (it is our own child's). */
function getOwnJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(url, {rejectUnauthorized: false, timeout: 1000}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Runs the deployment in the foreground until it is stopped; returns the exit code. */
export async function runUp(opts: UpOptions): Promise<number> {
  const {plan, home} = opts;
  assertNotRunning(home, plan.name);
  const controlDir = ensureControlDir(sshControlDirOf(home));
  await preflightPorts(plan, controlDir);
  rotateLogs(plan.runDir);
  await shipToHosts(plan, controlDir);
  const started = Date.now();
  let phase: RunState['status'] = 'starting';
  const labels = new Map(plan.processes.map((p) => [p.id, `${p.id}@${p.host.name}`]));
  const prefix = prefixer([...labels.values()]);
  // While the task list owns the terminal, output is held back (bounded) and replayed once ready.
  let streaming = false;
  const held: string[] = [];

  const sup = new Supervisor(plan, {
    controlDir,
    roleEnv: {[REQUEST_PLANE_TOKEN_ENV]: newRequestPlaneToken(plan.runDir)},
    onLine: (id, line) => {
      if (!opts.echo) return;
      const text = prefix(labels.get(id)!, line);
      if (streaming) out(text);
      else if (held.push(text) > 2000) held.shift();
    },
    onStatus: (st) => {
      writeState(plan.runDir, {...toRunState(plan, phase, sup.states(), opts.configFile), startedAt: started});
      // How each process ended on stop: a clean exit, or killed after the grace period.
      if (st.status === 'stopped' && st.exit) err(`  ${labels.get(st.id)} stopped: ${st.exit.signal ? `killed by ${st.exit.signal}` : `exit code ${st.exit.code}`}`);
    },
  });
  writeState(plan.runDir, toRunState(plan, phase, sup.states(), opts.configFile));

  let signalCode = 0;
  let interrupts = 0;
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // One keypress can arrive twice (a signal to the process and to its group, as `timeout` sends):
    // only a second signal a moment later means "force".
    if (interrupts && performance.now() - firstSignalAt < 250) return;
    if (!interrupts) firstSignalAt = performance.now();
    interrupts++;
    // Ctrl-C ends with 130 as shells expect; SIGTERM (e.g. `dynamo down`) is a requested, clean stop.
    signalCode = sig === 'SIGINT' ? 130 : 0;
    if (interrupts === 1) {
      phase = 'stopping';
      err(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping ${plan.name} (again to force)…`);
      void sup.stopAll();
    } else {
      err('forcing: SIGKILL to every process');
      void sup.killAll();
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  let control: Server | undefined;

  try {
    const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
    const tasks = startupTasks(sup, tty ? 'default' : 'simple', new ProcessOutput(process.stderr, process.stderr));
    try {
      await tasks.run();
    } catch (e) {
      await sup.stopAll();
      // Stopped while starting: the conventional 128 + signal number.
      if (interrupts) return signalCode || 143;
      throw e instanceof ExternalError ? e : new ExternalError((e as Error).message);
    }
    if (interrupts) {
      // Stopped while starting (the task list skipped the cancelled starts).
      await sup.outcome;
      return signalCode || 143;
    }
    phase = 'ready';
    // Without it only `dynamo restart` is missing (e.g. a run directory path too long for a socket).
    control = await serveControl(plan.runDir, (req, say) => rollingRestart(sup, plan, req.role, say)).catch((e: Error) => {
      err(`  dynamo restart is not available for this run: ${e.message}`);
      return undefined;
    });
    writeState(plan.runDir, {...toRunState(plan, phase, sup.states(), opts.configFile), startedAt: started});
    const workers = plan.processes.filter((p) => p.role === 'worker').length;
    err(
      `✔ ${plan.name} ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${plan.url} (${plan.model}, ${workers} worker${workers === 1 ? '' : 's'})\n` +
        `  logs: ${join(plan.runDir, 'logs')}   stop: Ctrl-C or \`dynamo down ${plan.name}\``,
    );
    streaming = true;
    for (const l of held.splice(0)) out(l);
    const outcome = await sup.outcome;
    if (outcome.kind !== 'stopped') throw outcome.error;
    return signalCode;
  } finally {
    control?.close();
    for (const s of signals) process.off(s, onSignal);
    await closeSshMasters([...sshHostsOf(plan).values()], controlDir);
    removeState(plan.runDir);
  }
}

/**
 * `--detach`: re-run this same command in a new session with output to supervisor.log, wait until
 * it reports ready (or dies), then return. The detached supervisor is found later through its state.
 */
export async function runDetached(opts: {plan: DeploymentPlan; home: string; selfArgv: string[]; argv: string[]}): Promise<void> {
  const {plan, home} = opts;
  assertNotRunning(home, plan.name);
  await preflightPorts(plan, sshControlDirOf(home));
  mkdirSync(plan.runDir, {recursive: true});
  const logFile = join(plan.runDir, 'supervisor.log');
  const args = opts.argv.filter((a) => a !== '--detach' && a !== '-d');
  const child = spawnDetached([...opts.selfArgv, ...args], logFile, {DYN_DETACHED: '1', NO_COLOR: '1'});
  let exited = false;
  void child.exited.then(() => (exited = true));
  const budget = plan.processes.reduce((n, p) => n + p.readiness.timeoutMs, 0) + 10_000;
  const deadline = Date.now() + budget;
  for (;;) {
    const state = readState(plan.runDir);
    if (state?.supervisorPid === child.pid && state.status === 'ready') {
      err(`✔ ${plan.name} running in the background (supervisor pid ${child.pid}): ${plan.url}`);
      err(`  ps: \`dynamo ps\`   logs: \`dynamo logs -f --name ${plan.name}\`   stop: \`dynamo down ${plan.name}\``);
      return;
    }
    if (exited || Date.now() > deadline) {
      if (!exited) process.kill(-child.pid, 'SIGTERM');
      const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20);
      throw new ExternalError(`the detached deployment ${plan.name} failed to start`, {process: 'supervisor', logTail: tail, logFile});
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
