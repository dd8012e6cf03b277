/**
 * `dynamo up` as data: every process the deployment needs, with its host, full command line,
 * environment, ports, readiness check, dependencies, restart policy and log file. Pure: the caller
 * passes the executable to launch (`selfArgv`) and the run directory, so tests check plans with no
 * process started and no file touched.
 */
import {join, resolve} from 'node:path';
import {UserError} from '../shared/errors.js';
import {maskSecret} from '../shared/secrets.js';
import {runsInWorker} from '../config/engines.js';
import type {DynamoConfig, WorkerRole} from '../config/schema.js';
import {ETCD_HEALTH_PATH, NATS_HEALTH_PATH, etcdArgv, natsArgv} from './services.js';
import {remoteRunDirOf} from './run-dir.js';
import {shippedPath} from './ship.js';

// Where and how processes run (src/process/), as the plan names them.
export type {HostRef} from '../process/child.js';
export type {ReadinessSpec} from '../process/readiness.js';
export type {RestartPolicy} from '../process/restart.js';
import type {HostRef} from '../process/child.js';
import type {ReadinessSpec} from '../process/readiness.js';
import type {RestartPolicy} from '../process/restart.js';

export interface ProcessSpec {
  id: string;
  role: 'frontend' | 'worker' | 'external';
  workerRole?: WorkerRole;
  host: HostRef;
  /** argv as run on that host; argv[0] is the executable. */
  argv: string[];
  env: Record<string, string>;
  ports: Record<string, number>;
  readiness: ReadinessSpec;
  dependsOn: string[];
  restart: RestartPolicy;
  logFile: string;
  /** A worker's real engine, as its worker starts it (also in its argv, whole, as `--engine-run`). */
  engine?: {argv: string[]; env: Record<string, string>};
}

export interface DeploymentPlan {
  name: string;
  runDir: string;
  model: string;
  /** Where clients reach the API. */
  url: string;
  stopGraceMs: number;
  processes: ProcessSpec[];
}

/** A worker as the engine planner sees it. */
export interface WorkerSlot {
  id: string;
  role: WorkerRole;
  /** 'local' or an SSH host name. */
  hostName: string;
  /** Where other hosts reach the worker's host. */
  address: string;
  /** The deployment's run directory on the worker's host. */
  runDir: string;
}

/**
 * A worker's real engine as planned outside the supervisor (src/engines/plan.ts): `run` travels to
 * the worker whole; the supervisor reads only the launch line (to show it), the load budget (its
 * readiness waits that long) and the ports (checked for clashes and before start).
 */
export interface PlannedWorkerEngine {
  run: {launch: {command: string; args: string[]; env: Record<string, string>}; loadTimeoutMs: number};
  ports: Record<string, number>;
}

export type EnginePlanner = (workers: readonly WorkerSlot[], restart: RestartPolicy) => Map<string, PlannedWorkerEngine>;

export interface PlanInputs {
  runDir: string;
  /** How to start this same executable locally (binary path, or node + script under development). */
  selfArgv: string[];
  /** Real engines: plans each worker's engine. Absent (e.g. for `dynamo sanity`): workers are planned without one. */
  engines?: EnginePlanner;
  /** This build's id (ship.ts): SSH hosts with no dynamoPath run the copy `up` ships to them. */
  binaryId?: string;
  /** The supervisor's environment: a setting the user exported there wins over the plan's defaults (`servingRuntimeEnv`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * How the runtime of a long-running serving process is set (docs/serving.md, "The runtime"):
 * - it keeps the memory it frees. Bun's allocator (mimalloc) gives freed pages back to the OS at
 *   once and faults them in again on the next request: under load ~8 page faults and 2–3 madvise
 *   calls per request, a sixth of the frontend's and the mocker's CPU. A server reuses the same
 *   memory on every request, so purging buys nothing but the faults;
 * - its code reaches JSC's optimizing tiers sooner. JSC's thresholds suit a page or a script; a
 *   function run once per request met the FTL tier's only after ~10k requests, and until then
 *   every request ran slower (one at a time: p50 0.84 → 0.73 ms over the first 2,000 requests).
 * Not for workers of GPU engines: their engine would inherit it. A value the user exported wins
 * (the child inherits it).
 */
const SERVING_RUNTIME: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_DELAY: '-1',
  BUN_JSC_thresholdForJITAfterWarmUp: '50',
  BUN_JSC_thresholdForOptimizeAfterWarmUp: '100',
  BUN_JSC_thresholdForFTLOptimizeAfterWarmUp: '3000',
};

function servingRuntimeEnv(inherited: PlanInputs['env']): Record<string, string> {
  return Object.fromEntries(Object.entries(SERVING_RUNTIME).filter(([k]) => inherited?.[k] === undefined));
}

function hostRef(config: DynamoConfig, name: string, where: string): HostRef {
  if (name === 'local') return {name: 'local'};
  const ssh = config.hosts[name];
  if (!ssh) {
    const known = Object.keys(config.hosts);
    throw new UserError(
      `${where} names host "${name}", which is not defined under "hosts"`,
      known.length ? `use "local" or one of: ${known.join(', ')}` : 'add it under `hosts:` (address, user, identityFile) or use "local"',
    );
  }
  return {name, ssh};
}

/** This executable on `host`: here as we run; on an SSH host its dynamoPath, else the build `up` ships there. */
function exeFor(host: HostRef, selfArgv: string[], binaryId?: string): string[] {
  if (!('ssh' in host)) return selfArgv;
  return [host.ssh.dynamoPath ?? (binaryId ? shippedPath(binaryId) : 'dynamo')];
}

function workerRoles(config: DynamoConfig): WorkerRole[] {
  return config.disagg ? ['prefill', 'decode'] : ['agg'];
}

export function planDeployment(config: DynamoConfig, inputs: PlanInputs): DeploymentPlan {
  const {runDir, selfArgv} = inputs;
  if (config.frontend.admissionControl === 'token-capacity' && (config.router.mode !== 'kv' || config.router.queueThreshold <= 0)) {
    throw new UserError('frontend.admissionControl token-capacity needs the router queue, which kv routing with router.queueThreshold above 0 has', 'use --router-mode kv (the default) and a router.queueThreshold above 0, or --admission-control none');
  }
  const logs = join(runDir, 'logs');
  const discovery = planDiscovery(config, runDir, selfArgv);
  const events = planEventPlane(config, runDir, selfArgv);
  // Every role names its deployment once: its keys in etcd and its NATS subjects are under it.
  const planes = ['--deployment', config.name, ...discovery.args, ...events.args];
  const services = [discovery.service, events.service].filter((s): s is ProcessSpec => s !== undefined);
  const mk = config.mocker;
  const dg = config.disaggregation;
  // The in-worker engines' sizing (llama.cpp takes sequences and batch; the rest is the mocker's).
  const sizingArgs = ['--max-num-seqs', String(mk.maxNumSeqs), '--max-num-batched-tokens', String(mk.maxNumBatchedTokens)];
  const mockerArgs =
    config.engine === 'llamacpp'
      ? sizingArgs
      : config.engine === 'mocker'
        ? ['--speedup-ratio', String(mk.speedupRatio), '--gpu-memory-gb', String(mk.gpuMemoryGb), ...(mk.numGpuBlocks ? ['--num-gpu-blocks', String(mk.numGpuBlocks)] : []), ...sizingArgs]
        : [];
  const common = {DYN_RUN_NAME: config.name, DYN_LOG_LEVEL: config.logLevel};
  const runtime = servingRuntimeEnv(inputs.env);
  const restart: RestartPolicy = {
    maxRestarts: config.supervisor.maxRestarts,
    backoffMs: config.supervisor.restartBackoffMs,
    backoffMaxMs: config.supervisor.restartBackoffMaxMs,
    stableMs: 30_000,
  };

  const workers: ProcessSpec[] = [];
  const slots: WorkerSlot[] = [];
  let portIndex = 0;
  for (const role of workerRoles(config)) {
    const group = config.workers[role];
    if (group.count < 1) {
      throw new UserError(
        `${config.disagg ? 'disaggregated' : 'aggregated'} serving needs at least one ${role} worker`,
        `set workers.${role}.count (or --${role === 'agg' ? 'workers' : `${role}-workers`}) to 1 or more`,
      );
    }
    const hosts = group.hosts.map((h) => hostRef(config, h, `workers.${role}.hosts`));
    for (let i = 0; i < group.count; i++) {
      const id = `${role}-${i}`;
      const host = hosts[i % hosts.length]!;
      const address = 'ssh' in host ? (host.ssh.advertiseAddress ?? host.ssh.address) : '127.0.0.1';
      const rpc = config.workers.basePort + 2 * portIndex;
      const metrics = rpc + 1;
      portIndex++;
      slots.push({id, role, hostName: host.name, address, runDir: 'ssh' in host ? remoteRunDirOf(config.name) : runDir});
      workers.push({
        id,
        role: 'worker',
        workerRole: role,
        host,
        argv: [
          ...exeFor(host, selfArgv, inputs.binaryId),
          'worker',
          '--engine',
          config.engine,
          '--role',
          role,
          '--model',
          config.model,
          '--worker-id',
          id,
          '--rpc-port',
          String(rpc),
          '--metrics-port',
          String(metrics),
          '--block-size',
          String(config.router.blockSize),
          '--engine-request-limit',
          String(config.workers.engineRequestLimit),
          ...planes,
          // Unset = auto: the worker picks the fewest GPUs that hold the weights (engines/mocker/capacity.ts).
          ...(group.tensorParallelSize ? ['--tensor-parallel-size', String(group.tensorParallelSize)] : []),
          // Remote workers listen on their host's own address (several hosts may share a machine's
          // ports, e.g. loopback aliases) and tell the frontend that address.
          ...('ssh' in host ? ['--host', address, '--advertise-host', address] : []),
          // workers.<role>.engineArgs reach a real engine inside its launch (--engine-run), never
          // this argv: the worker command has no `--` passthrough.
          ...mockerArgs,
          ...(role === 'agg' ? [] : ['--kv-lease-ms', String(dg.leaseMs), '--kv-transfer-backend', dg.transferBackend, '--kv-memory-scale', String(dg.kvMemoryScale)]),
        ],
        // The host's own environment first (its PATH to the engine, HF_HOME), then ours.
        env: {...(runsInWorker(config.engine) ? runtime : {}), ...('ssh' in host ? host.ssh.env : {}), ...common, DYN_PROCESS_ID: id},
        ports: {rpc, metrics},
        readiness: {address, port: metrics, httpPath: '/health', timeoutMs: config.supervisor.readyTimeoutMs},
        dependsOn: services.map((s) => s.id),
        restart,
        logFile: join(logs, `${id}.log`),
      });
    }
  }

  if (!runsInWorker(config.engine) && inputs.engines) withEngines(workers, inputs.engines(slots, restart));

  const r = config.router;
  const tls = Boolean(config.frontend.tlsCert && config.frontend.tlsKey);
  const clientHost = ['0.0.0.0', '::'].includes(config.frontend.host) ? '127.0.0.1' : config.frontend.host;
  const frontend: ProcessSpec = {
    id: 'frontend',
    role: 'frontend',
    host: {name: 'local'},
    argv: [
      ...selfArgv,
      'frontend',
      '--host',
      config.frontend.host,
      '--port',
      String(config.frontend.port),
      '--model',
      config.model,
      '--router-mode',
      r.mode,
      '--router-block-size',
      String(r.blockSize),
      '--router-kv-overlap-score-weight',
      String(r.overlapWeight),
      '--router-temperature',
      String(r.temperature),
      r.kvEvents ? '--router-kv-events' : '--no-router-kv-events',
      '--router-queue-threshold',
      String(r.queueThreshold),
      '--router-ttl-secs',
      String(r.ttlSecs),
      '--router-max-tree-size',
      String(r.maxTreeSize),
      '--router-prune-target-ratio',
      String(r.pruneTargetRatio),
      ...planes,
      '--busy-max-inflight',
      String(r.busyMaxInflight),
      '--busy-kv-usage',
      String(r.busyKvUsage),
      '--body-limit-mb',
      String(config.frontend.bodyLimitMb),
      // Absolute: the frontend need not run where `up` was started.
      ...(config.frontend.tlsCert && config.frontend.tlsKey ? ['--tls-cert', resolve(config.frontend.tlsCert), '--tls-key', resolve(config.frontend.tlsKey)] : []),
      '--migration-limit',
      String(config.frontend.migrationLimit),
      ...(config.frontend.migrationMaxSeqLen ? ['--migration-max-seq-len', String(config.frontend.migrationMaxSeqLen)] : []),
      '--admission-control',
      config.frontend.admissionControl,
      '--overload-status-code',
      String(config.frontend.overloadStatusCode),
      '--pre-touch-mb',
      String(config.frontend.preTouchMb),
      ...(config.disagg ? ['--disagg', '--max-local-prefill-length', String(dg.maxLocalPrefillLength), '--max-prefill-queue-size', String(dg.maxPrefillQueueSize)] : []),
    ],
    // The API key travels in the environment: argv is visible to every user in `ps`.
    env: {...runtime, ...common, DYN_PROCESS_ID: 'frontend', ...(config.frontend.apiKey ? {DYN_FRONTEND_API_KEY: config.frontend.apiKey} : {})},
    ports: {http: config.frontend.port},
    // Over TLS the supervisor does not check the certificate: it waits for the port and the ready line.
    readiness: tls ? {address: clientHost, port: config.frontend.port, logLine: 'frontend ready', timeoutMs: config.supervisor.readyTimeoutMs} : {address: clientHost, port: config.frontend.port, httpPath: '/health', timeoutMs: config.supervisor.readyTimeoutMs},
    // Started after the workers and stopped before them: intake stops first, then workers drain.
    dependsOn: workers.map((w) => w.id),
    // A crashed frontend comes back and rebuilds its view from the workers, which keep serving.
    restart,
    logFile: join(logs, 'frontend.log'),
  };

  // A host on a loopback address is this machine under another name: it reaches loopback services.
  const remote = workers.find((w) => 'ssh' in w.host && !isLoopback(w.host.ssh.advertiseAddress ?? w.host.ssh.address));
  if (remote && discovery.service && isLoopback(config.discovery.etcdHost)) throw unreachableService(remote, 'etcd', 'discovery.etcdHost', 'discovery.etcdEndpoints to an etcd of yours');
  if (remote && events.service && isLoopback(config.eventPlane.natsHost)) throw unreachableService(remote, 'NATS', 'eventPlane.natsHost', 'eventPlane.natsUrl to a NATS of yours');
  const processes = [...services.map((s) => ({...s, restart, env: {...common, DYN_PROCESS_ID: s.id}, readiness: {...s.readiness!, timeoutMs: config.supervisor.readyTimeoutMs}})), ...workers, frontend];
  checkPortClashes(processes);
  return {
    name: config.name,
    runDir,
    model: config.model,
    url: `${tls ? 'https' : 'http'}://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${config.frontend.port}`,
    stopGraceMs: config.supervisor.stopGraceMs,
    processes,
  };
}

/** A worker on another host and a service `up` would run on this machine's loopback address. */
function unreachableService(remote: ProcessSpec, service: string, hostKey: string, yours: string): UserError {
  return new UserError(
    `${remote.id} runs on host "${remote.host.name}", which cannot reach the ${service} dynamo up runs on this machine's loopback address`,
    `set ${hostKey} to this machine's address the hosts reach (up then runs ${service} there), or ${yours}`,
  );
}

const isLoopback = (host: string) => host === 'localhost' || host.startsWith('127.') || host === '::1';

/**
 * How workers and the frontend find each other: their discovery flags, and the etcd `dynamo up`
 * runs itself when the config asks for etcd and names none (tethered, its data in the run
 * directory, listening on discovery.etcdHost: loopback unless workers on other hosts need it).
 */
function planDiscovery(config: DynamoConfig, runDir: string, selfArgv: string[]): {args: string[]; service?: ProcessSpec} {
  const d = config.discovery;
  if (d.backend === 'file') return {args: ['--discovery-dir', join(runDir, 'discovery')]};
  const etcdArgs = (endpoints: string[]) => ['--discovery', 'etcd', '--etcd-endpoints', endpoints.join(','), '--discovery-lease-ttl', String(d.leaseTtlS)];
  if (d.etcdEndpoints) return {args: etcdArgs(d.etcdEndpoints)};
  const host = d.etcdHost;
  const spec = {name: `dynamo-${config.name}`, dataDir: join(runDir, 'etcd'), host, clientPort: d.etcdPort, peerPort: d.etcdPort + 1};
  const service = serviceProcess(selfArgv, runDir, {id: 'etcd', argv: etcdArgv(spec), ports: {client: spec.clientPort, peer: spec.peerPort}, health: {address: host, port: spec.clientPort, httpPath: ETCD_HEALTH_PATH}});
  return {args: etcdArgs([`http://${host}:${spec.clientPort}`]), service};
}

/** Each worker hosting a real engine: its engine's plan in its argv, its ports, and a readiness budget that covers loading the model. */
function withEngines(workers: ProcessSpec[], engines: Map<string, PlannedWorkerEngine>): void {
  for (const w of workers) {
    const e = engines.get(w.id);
    if (!e) continue;
    w.argv.push('--engine-run', JSON.stringify(e.run));
    w.ports = {...w.ports, ...e.ports};
    w.readiness = {...w.readiness, timeoutMs: w.readiness.timeoutMs + e.run.loadTimeoutMs};
    w.engine = {argv: [e.run.launch.command, ...e.run.launch.args], env: e.run.launch.env};
  }
}

function checkPortClashes(processes: ProcessSpec[]): void {
  const seen = new Map<string, string>();
  for (const p of processes) {
    for (const [name, port] of Object.entries(p.ports)) {
      const key = `${p.host.name}:${port}`;
      const other = seen.get(key);
      if (other) {
        throw new UserError(
          `port ${port} on ${p.host.name} is used twice (${other} and ${p.id} ${name})`,
          'move frontend.port or workers.basePort so the ranges do not overlap',
        );
      }
      seen.set(key, `${p.id} ${name}`);
    }
  }
}

/** Dependency waves: each wave's processes depend only on earlier waves. Stop runs them in reverse. */
export function startWaves(processes: readonly ProcessSpec[]): ProcessSpec[][] {
  const done = new Set<string>();
  const left = [...processes];
  const waves: ProcessSpec[][] = [];
  while (left.length) {
    const wave = left.filter((p) => p.dependsOn.every((d) => done.has(d)));
    if (!wave.length) throw new Error(`dependency cycle among: ${left.map((p) => p.id).join(', ')}`);
    for (const p of wave) {
      done.add(p.id);
      left.splice(left.indexOf(p), 1);
    }
    waves.push(wave);
  }
  return waves;
}

/** A copy of the plan safe to print: secrets masked. */
export function redactPlan(plan: DeploymentPlan): DeploymentPlan {
  return {
    ...plan,
    processes: plan.processes.map((p) => ({
      ...p,
      env: Object.fromEntries(Object.entries(p.env).map(([k, v]) => [k, maskSecret(k, v) as string])),
    })),
  };
}

/**
 * How KV events reach the routers: straight from each worker (tcp: no flags, no service), or
 * through NATS, run by `dynamo up` itself (tethered, on eventPlane.natsHost) when the config names
 * no server. The subjects' namespace is the deployment's name (`--deployment`, given to every role).
 */
function planEventPlane(config: DynamoConfig, runDir: string, selfArgv: string[]): {args: string[]; service?: ProcessSpec} {
  const e = config.eventPlane;
  if (e.backend === 'tcp') return {args: []};
  const natsArgs = (url: string) => ['--event-plane', 'nats', '--nats-url', url];
  if (e.natsUrl) return {args: natsArgs(e.natsUrl)};
  const spec = {name: `dynamo-${config.name}`, host: e.natsHost, clientPort: e.natsPort, monitorPort: e.natsPort + 1};
  const service = serviceProcess(selfArgv, runDir, {id: 'nats', argv: natsArgv(spec), ports: {client: spec.clientPort, monitor: spec.monitorPort}, health: {address: e.natsHost, port: spec.monitorPort, httpPath: NATS_HEALTH_PATH}});
  return {args: natsArgs(`nats://${e.natsHost.includes(':') ? `[${e.natsHost}]` : e.natsHost}:${spec.clientPort}`), service};
}

/** A service `dynamo up` runs for the deployment (services.ts): tethered here, never restarted, its log in the run directory. */
function serviceProcess(selfArgv: string[], runDir: string, s: {id: string; argv: string[]; ports: Record<string, number>; health: {address: string; port: number; httpPath: string}}): ProcessSpec {
  return {
    id: s.id,
    role: 'external',
    host: {name: 'local'},
    argv: [...selfArgv, 'tether', '--grace-ms', '5000', '--', ...s.argv],
    env: {},
    ports: s.ports,
    readiness: {...s.health, timeoutMs: 60_000},
    dependsOn: [],
    restart: {maxRestarts: 0, backoffMs: 0, backoffMaxMs: 0, stableMs: 0},
    logFile: join(runDir, 'logs', `${s.id}.log`),
  };
}
