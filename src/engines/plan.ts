/**
 * The engines of a deployment on real engines (vLLM, SGLang, TensorRT-LLM), planned for the
 * supervisor's plan (src/supervisor/plan.ts takes this as its `engines` input): for each worker
 * its GPUs, ports and the exact launch (launch.ts), which the worker is given whole
 * (`--engine-run`) and `up --dry-run` shows. Pure: the GPUs come in as the topology
 * `dynamo sanity` reads.
 *
 * Decisions made here:
 * - Tensor parallel size: the group's, else the fewest GPUs (a power of two) that keep the weights
 *   within 60% of the smallest GPU's memory (the mocker's rule, on the real GPUs).
 * - GPUs: `assignGpus` (a TP group on the fastest links free); too few GPUs is an error that says
 *   how many the plan needs and how many the machine has.
 * - Ports: one HTTP port per engine from engineOptions.basePort; per worker two ZMQ ports per data-
 *   parallel rank (PUB, then replay) and one side-channel port per rank, so nothing overlaps.
 * - Extra engine arguments are checked against the engine's CLI and refused in its own words.
 * - Hosts: each host's GPUs are its own (probed there: NVML or nvidia-smi here, nvidia-smi over
 *   SSH elsewhere), so GPUs are assigned host by host. Ports count up across the whole deployment,
 *   so hosts that share a machine's ports (loopback aliases, containers on one box) never clash.
 *   An engine's files and log live in the deployment's run directory on its own host.
 */
import {join} from 'node:path';
import type {ModelInfo} from '../config/models.js';
import type {DynamoConfig, WorkerRole} from '../config/schema.js';
import type {RestartPolicy} from '../process/restart.js';
import type {GpuProbe} from '../sanity/gpu/topology.js';
import {UserError} from '../shared/errors.js';
import {checkEngineArgs} from './cli-check.js';
import {assignGpus} from './gpu-assign.js';
import {type EngineRun, REAL_ENGINES, type RealEngine, engineLaunch} from './launch.js';
import {autoTensorParallel, fitAtTp, formatGib, minTensorParallel} from './mocker/capacity.js';

export const isRealEngine = (engine: string): engine is RealEngine => (REAL_ENGINES as readonly string[]).includes(engine);

export interface EngineWorkerSlot {
  id: string;
  role: WorkerRole;
  /** 'local' or an SSH host name. */
  hostName: string;
  /** Where other hosts reach this worker's host (the engine's disaggregation side channel). */
  address: string;
  /** The deployment's run directory on the worker's host: the engine's files and log go there. */
  runDir: string;
}

/** Each host's GPUs as probed there ('local' is this machine). */
export type HostGpus = ReadonlyMap<string, GpuProbe>;

export interface PlannedEngine {
  run: EngineRun;
  /** Ports the engine takes on its host, for the clash and pre-flight checks. */
  ports: Record<string, number>;
}

const MIB = 1024 * 1024;

export function planEngines(config: DynamoConfig, model: ModelInfo, gpus: HostGpus, workers: readonly EngineWorkerSlot[], opts: {restart: RestartPolicy}): Map<string, PlannedEngine> {
  const engine = config.engine;
  if (!isRealEngine(engine)) return new Map();
  const eo = config.engineOptions;
  for (const role of eo.checkEngineArgs ? new Set(workers.map((w) => w.role)) : []) {
    const refused = checkEngineArgs(engine, config.workers[role].engineArgs);
    if (refused) {
      throw new UserError(
        `workers.${role}.engineArgs: ${engine} would refuse them: ${refused}`,
        `fix or remove the argument (\`${helpCommand(engine)}\` lists what ${engine} takes); for a flag newer than this build knows, set engineOptions.checkEngineArgs: false`,
      );
    }
  }
  const assigned = new Map<string, {tp: number; dp: number; gpus: readonly number[]}>();
  for (const [hostName, onHost] of groupBy(workers, (w) => w.hostName)) {
    for (const [id, a] of assignOnHost(config, model, hostName, gpus.get(hostName), onHost)) assigned.set(id, a);
  }

  const out = new Map<string, PlannedEngine>();
  let enginePort = eo.basePort;
  let kvPort = eo.kvEventsBasePort;
  let transferPort = eo.transferBasePort;
  for (const w of workers) {
    const {tp, dp, gpus: onGpus} = assigned.get(w.id)!;
    const group = config.workers[w.role];
    const spec = {
      engine,
      role: w.role,
      model: model.path ?? model.hfId,
      servedModelName: config.model,
      host: '127.0.0.1',
      port: enginePort++,
      advertiseHost: w.address,
      gpus: onGpus,
      tensorParallelSize: tp,
      dataParallelSize: dp,
      expertParallel: group.expertParallel,
      blockSize: config.router.blockSize,
      maxModelLen: eo.maxModelLen,
      gpuMemoryFraction: eo.gpuMemoryFraction,
      prefixCaching: eo.prefixCaching,
      kvEventsPort: kvPort,
      transferPort,
      configDir: join(w.runDir, 'engines', w.id),
      extraArgs: group.engineArgs,
    };
    const launch = engineLaunch(spec);
    const ports: Record<string, number> = {engine: spec.port};
    for (let r = 0; r < dp; r++) {
      ports[`kvEvents${r}`] = kvPort + r;
      ports[`kvReplay${r}`] = kvPort + dp + r;
      if (w.role !== 'agg') ports[`transfer${r}`] = transferPort + r;
    }
    kvPort += 2 * dp;
    transferPort += dp;
    out.set(w.id, {run: {launch, loadTimeoutMs: eo.loadTimeoutMs, restart: opts.restart, logFile: join(w.runDir, 'logs', `${w.id}.engine.log`)}, ports});
  }
  return out;
}

const where = (hostName: string) => (hostName === 'local' ? 'this machine' : `host ${hostName}`);

/** The GPUs of each worker on one host: its TP size (the group's, else the fewest that hold the weights) × its data-parallel ranks, on the host's fastest links. */
function assignOnHost(config: DynamoConfig, model: ModelInfo, hostName: string, probe: GpuProbe | undefined, workers: readonly EngineWorkerSlot[]): Map<string, {tp: number; dp: number; gpus: readonly number[]}> {
  const engine = config.engine;
  const eo = config.engineOptions;
  const topology = probe?.state === 'ok' ? probe.topology : undefined;
  if (!topology?.gpus.length) {
    const why = probe && probe.state !== 'ok' ? ` (${probe.reason})` : '';
    throw new UserError(
      `engine ${engine} needs NVIDIA GPUs, and none were found on ${where(hostName)}${why}`,
      hostName === 'local'
        ? '`dynamo sanity` says what is missing (driver, GPUs); or run the built-in simulator with --engine mocker'
        : `\`dynamo sanity\` with this config checks ${hostName} too (SSH, driver, GPUs); hosts.${hostName}.env can put nvidia-smi and the engine on its PATH`,
    );
  }
  const smallest = Math.min(...topology.gpus.map((g) => g.memory.totalMiB)) * MIB;
  const sizes = workers.map((w) => {
    const group = config.workers[w.role];
    const tp = group.tensorParallelSize ?? autoTensorParallel(model, smallest);
    const fit = fitAtTp(model, tp, smallest, {utilization: eo.gpuMemoryFraction});
    if (fit.kvBytesPerGpu <= 0) {
      const least = minTensorParallel(model, smallest, 0, {utilization: eo.gpuMemoryFraction});
      throw new UserError(
        `${model.name} at tensor parallel ${tp} needs ${formatGib(fit.weightsPerGpu)} of weights per GPU, more than the ${formatGib(smallest * eo.gpuMemoryFraction)} engineOptions.gpuMemoryFraction leaves of each ${formatGib(smallest)} GPU${hostName === 'local' ? '' : ` of host ${hostName}`}`,
        least ? `set workers.${w.role}.tensorParallelSize to ${least} or more (or leave it unset)` : 'this model does not fit on these GPUs',
      );
    }
    return {tp, dp: config.workers[w.role].dataParallelSize};
  });
  const assigned = assignGpus(
    topology,
    sizes.map((s) => s.tp * s.dp),
  );
  if (!assigned) {
    const need = sizes.reduce((n, s) => n + s.tp * s.dp, 0);
    const each = workers.map((w, i) => `${w.id} ${sizes[i]!.tp}×${sizes[i]!.dp}`).join(', ');
    throw new UserError(
      `the plan needs ${need} GPUs on ${where(hostName)} (${each}; tensor × data parallel) and ${hostName === 'local' ? 'this machine' : 'it'} has ${topology.gpus.length} (${formatGib(smallest)} each)`,
      'run fewer workers (--workers, --prefill-workers, --decode-workers), place them on more hosts (workers.<role>.hosts), or set workers.<role>.tensorParallelSize lower if the weights fit',
    );
  }
  return new Map(workers.map((w, i) => [w.id, {...sizes[i]!, gpus: assigned[i]!}]));
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    out.set(k, [...(out.get(k) ?? []), t]);
  }
  return out;
}

/**
 * The planner `dynamo up` gives its plan: the GPUs of every host the workers are placed on, read
 * once each and all at once (`probe`: NVML, else nvidia-smi, here; nvidia-smi over SSH on an SSH
 * host), then `planEngines` for the plan's workers.
 */
export async function enginePlanner(config: DynamoConfig, model: ModelInfo, probe: (hostName: string) => Promise<GpuProbe>) {
  const hosts = [...new Set(workerHosts(config))];
  const found = await Promise.all(hosts.map(probe));
  const gpus: HostGpus = new Map(hosts.map((h, i) => [h, found[i]!]));
  return (workers: readonly EngineWorkerSlot[], restart: RestartPolicy) => planEngines(config, model, gpus, workers, {restart});
}

/** The hosts the plan's workers land on: each role's hosts, as many as it has workers (placement is round-robin). */
function workerHosts(config: DynamoConfig): string[] {
  const roles: WorkerRole[] = config.disagg ? ['prefill', 'decode'] : ['agg'];
  return roles.flatMap((r) => config.workers[r].hosts.slice(0, config.workers[r].count));
}

function helpCommand(engine: RealEngine): string {
  return {vllm: 'vllm serve --help', sglang: 'python3 -m sglang.launch_server --help', trtllm: 'trtllm-serve serve --help'}[engine];
}
