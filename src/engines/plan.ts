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
 * - Engines run on this machine only for now; workers placed on SSH hosts are refused.
 */
import {join} from 'node:path';
import type {ModelInfo} from '../config/models.js';
import type {DynamoConfig, WorkerRole} from '../config/schema.js';
import type {RestartPolicy} from '../process/restart.js';
import type {GpuProbe, GpuTopology} from '../sanity/gpu/topology.js';
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
}

export interface PlannedEngine {
  run: EngineRun;
  /** Ports the engine takes on its host, for the clash and pre-flight checks. */
  ports: Record<string, number>;
}

const MIB = 1024 * 1024;

export function planEngines(config: DynamoConfig, model: ModelInfo, gpus: GpuTopology | undefined, workers: readonly EngineWorkerSlot[], opts: {runDir: string; restart: RestartPolicy; noGpusWhy?: string}): Map<string, PlannedEngine> {
  const engine = config.engine;
  if (!isRealEngine(engine)) return new Map();
  const eo = config.engineOptions;
  const remote = workers.find((w) => w.hostName !== 'local');
  if (remote) {
    throw new UserError(
      `${remote.id} is placed on host "${remote.hostName}", but ${engine} workers run on this machine only in this build`,
      `set workers.${remote.role}.hosts to [local]; real engines on SSH hosts arrive with multi-host deployments`,
    );
  }
  for (const role of eo.checkEngineArgs ? new Set(workers.map((w) => w.role)) : []) {
    const refused = checkEngineArgs(engine, config.workers[role].engineArgs);
    if (refused) {
      throw new UserError(
        `workers.${role}.engineArgs: ${engine} would refuse them: ${refused}`,
        `fix or remove the argument (\`${helpCommand(engine)}\` lists what ${engine} takes); for a flag newer than this build knows, set engineOptions.checkEngineArgs: false`,
      );
    }
  }
  if (!gpus?.gpus.length) {
    throw new UserError(`engine ${engine} needs NVIDIA GPUs, and none were found on this machine${opts.noGpusWhy ? ` (${opts.noGpusWhy})` : ''}`, '`dynamo sanity` says what is missing (driver, GPUs); or run the built-in simulator with --engine mocker');
  }
  const smallest = Math.min(...gpus.gpus.map((g) => g.memory.totalMiB)) * MIB;
  const sizes = workers.map((w) => {
    const group = config.workers[w.role];
    const tp = group.tensorParallelSize ?? autoTensorParallel(model, smallest);
    const fit = fitAtTp(model, tp, smallest, {utilization: eo.gpuMemoryFraction});
    if (fit.kvBytesPerGpu <= 0) {
      const least = minTensorParallel(model, smallest, 0, {utilization: eo.gpuMemoryFraction});
      throw new UserError(
        `${model.name} at tensor parallel ${tp} needs ${formatGib(fit.weightsPerGpu)} of weights per GPU, more than the ${formatGib(smallest * eo.gpuMemoryFraction)} engineOptions.gpuMemoryFraction leaves of each ${formatGib(smallest)} GPU`,
        least ? `set workers.${w.role}.tensorParallelSize to ${least} or more (or leave it unset)` : 'this model does not fit on these GPUs',
      );
    }
    return {tp, dp: group.dataParallelSize};
  });
  const need = sizes.reduce((n, s) => n + s.tp * s.dp, 0);
  const assigned = assignGpus(
    gpus,
    sizes.map((s) => s.tp * s.dp),
  );
  if (!assigned) {
    const each = workers.map((w, i) => `${w.id} ${sizes[i]!.tp}×${sizes[i]!.dp}`).join(', ');
    throw new UserError(
      `the plan needs ${need} GPUs (${each}; tensor × data parallel) and this machine has ${gpus.gpus.length} (${formatGib(smallest)} each)`,
      'run fewer workers (--workers, --prefill-workers, --decode-workers), or set workers.<role>.tensorParallelSize lower if the weights fit',
    );
  }

  const out = new Map<string, PlannedEngine>();
  let kvPort = eo.kvEventsBasePort;
  let transferPort = eo.transferBasePort;
  workers.forEach((w, i) => {
    const {tp, dp} = sizes[i]!;
    const group = config.workers[w.role];
    const spec = {
      engine,
      role: w.role,
      model: model.path ?? model.hfId,
      servedModelName: config.model,
      host: '127.0.0.1',
      port: eo.basePort + i,
      advertiseHost: '127.0.0.1',
      gpus: assigned[i]!,
      tensorParallelSize: tp,
      dataParallelSize: dp,
      expertParallel: group.expertParallel,
      blockSize: config.router.blockSize,
      maxModelLen: eo.maxModelLen,
      gpuMemoryFraction: eo.gpuMemoryFraction,
      prefixCaching: eo.prefixCaching,
      kvEventsPort: kvPort,
      transferPort,
      configDir: join(opts.runDir, 'engines', w.id),
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
    out.set(w.id, {run: {launch, loadTimeoutMs: eo.loadTimeoutMs, restart: opts.restart, logFile: join(opts.runDir, 'logs', `${w.id}.engine.log`)}, ports});
  });
  return out;
}

/**
 * The planner `dynamo up` gives its plan: this machine's GPUs read once (NVML, else nvidia-smi, as
 * `dynamo sanity` reads them), then `planEngines` for the plan's workers.
 */
export async function enginePlanner(config: DynamoConfig, model: ModelInfo, runDir: string, probe: () => Promise<GpuProbe>) {
  const found = await probe();
  const gpus = found.state === 'ok' ? found.topology : undefined;
  const noGpusWhy = found.state === 'ok' ? undefined : found.reason;
  return (workers: readonly EngineWorkerSlot[], restart: RestartPolicy) => planEngines(config, model, gpus, workers, {runDir, restart, noGpusWhy});
}

function helpCommand(engine: RealEngine): string {
  return {vllm: 'vllm serve --help', sglang: 'python3 -m sglang.launch_server --help', trtllm: 'trtllm-serve serve --help'}[engine];
}
