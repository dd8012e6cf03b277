/**
 * The gpu area: driver, CUDA, devices, topology, MIG, ECC and (--thorough) copy bandwidth, each a
 * verdict (gpu/verdicts.ts) over the one GPU probe the run shares (`ctx.facts.gpu()`: NVML, else
 * nvidia-smi). What the driver must offer follows the engine that runs here (engineHere): vLLM,
 * SGLang and TensorRT-LLM need a driver with their CUDA; the mocker needs none, so without a driver
 * every gpu check skips for it, and with --engine vllm `gpu.driver` fails instead. A probe that
 * failed fails `gpu.driver` with what the driver said; the others skip, pointing there.
 *
 * The CUDA each engine needs is no tunable threshold but a fact of the version this build pins, so it
 * sits beside the pins in engines.ts, not in the suite. Parameters (from the suite): `gpu.devices`
 * takes `busyFraction` (0.05); `gpu.bandwidth` takes `sizeMiB` (64) and `minH2DGBps` (10).
 */
import {type GpuBandwidth, gpuBandwidth} from '../../native/gpu.js';
import type {Check, CheckOutcome, SanityContext} from '../check.js';
import {ENGINE_CUDA, ENGINE_PACKAGES, GPU_ENGINES, type GpuEngine, engineName, needsGpus} from '../engines.js';
import {numberParam} from '../params.js';
import type {GpuTopology} from '../gpu/topology.js';
import {
  bandwidthVerdict,
  devicesVerdict,
  driverVerdict,
  eccVerdict,
  migVerdict,
  minDriverForCuda,
  noCudaNeeded,
  topologyVerdict,
} from '../gpu/verdicts.js';
import {roleGroupsHere} from './deployment-context.js';

export const NO_DRIVER_FINDING = 'no NVIDIA driver: GPU checks skipped (the mocker needs none)';

type Verdict = (t: GpuTopology, ctx: SanityContext) => CheckOutcome | Promise<CheckOutcome>;

/** Runs `verdict` on the topology, or skips when there is none to judge. */
function onTopology(verdict: Verdict): Check['run'] {
  return async (ctx) => {
    const probe = await ctx.facts.gpu();
    if (probe.state === 'no-driver') return {status: 'skip', finding: 'no NVIDIA driver'};
    if (probe.state === 'error') return {status: 'skip', finding: 'the GPUs could not be read (see gpu.driver)'};
    return verdict(probe.topology, ctx);
  };
}

/**
 * The engine this host runs: with a deployment, its engine when one of its workers is placed here,
 * undefined when none is (the frontend's host needs no GPU); without one (no model), the configured
 * engine, as `dynamo up` would run it here.
 */
export function engineHere(ctx: SanityContext): string | undefined {
  const d = ctx.deployment;
  if (!d) return ctx.engine;
  return roleGroupsHere(ctx, d).length ? d.config.engine : undefined;
}

/** "vLLM 0.33.0": the engine at the version this build drives. */
const pinned = (engine: GpuEngine) => `${engineName(engine)} ${ENGINE_PACKAGES[engine].pin}`;

/** Without a driver: a failure when a real engine runs here, else a skip that says why none is needed. */
function noDriver(ctx: SanityContext, reason: string): CheckOutcome {
  const engine = engineHere(ctx);
  if (engine !== undefined && needsGpus(engine)) {
    const {minCuda} = ENGINE_CUDA[engine];
    const driver = minDriverForCuda(minCuda);
    return {
      status: 'fail',
      finding: `no NVIDIA driver: ${pinned(engine)} needs one with CUDA ≥ ${minCuda}`,
      fix: `install the NVIDIA driver${driver ? ` (≥ ${driver})` : ''} until \`nvidia-smi\` lists the GPUs (in a container: docker run --gpus all), or use --engine mocker`,
      data: {reason, engine},
    };
  }
  const why = engine === undefined ? 'no worker runs on this host' : `${engineName(engine)} needs none`;
  return {status: 'skip', finding: engine === 'mocker' ? NO_DRIVER_FINDING : `no NVIDIA driver: GPU checks skipped (${why})`, data: {reason}};
}

const driver: Check = {
  id: 'gpu.driver',
  area: 'gpu',
  title: 'NVIDIA driver',
  async run(ctx) {
    const probe = await ctx.facts.gpu();
    if (probe.state === 'no-driver') return noDriver(ctx, probe.reason);
    if (probe.state === 'error') {
      return {
        status: 'fail',
        finding: `the NVIDIA driver did not answer: ${probe.reason}`,
        fix: 'run `nvidia-smi` and fix what it reports (a driver/library version mismatch clears after a reboot)',
        data: {reason: probe.reason},
      };
    }
    const t = probe.topology;
    const via = t.source === 'nvml' ? 'NVML' : 'nvidia-smi';
    return {
      status: 'pass',
      finding: `driver ${t.driverVersion} (CUDA ${t.cudaDriverVersion || 'unknown'}), ${t.gpus.length} GPU${t.gpus.length === 1 ? '' : 's'}, read through ${via}`,
      data: {driverVersion: t.driverVersion, cudaVersion: t.cudaDriverVersion, gpus: t.gpus.length, source: t.source},
    };
  },
};

const cuda: Check = {
  id: 'gpu.cuda',
  area: 'gpu',
  title: 'CUDA version the driver supports',
  run: onTopology((t, ctx) => {
    const engine = engineHere(ctx);
    if (engine !== undefined && needsGpus(engine)) {
      const v = driverVerdict(t, {...ENGINE_CUDA[engine], neededBy: pinned(engine)});
      return {...v, data: {...v.data, engine}};
    }
    const realNeeds = Object.fromEntries(GPU_ENGINES.map((e) => [engineName(e), ENGINE_CUDA[e].minCuda]));
    return noCudaNeeded(t, engine === undefined ? 'no worker runs on this host: no CUDA needed' : `${engineName(engine)} needs no CUDA`, realNeeds);
  }),
};

const devices: Check = {
  id: 'gpu.devices',
  area: 'gpu',
  title: 'GPUs and their free memory',
  run: onTopology((t, ctx) => devicesVerdict(t, numberParam(ctx.params, 'busyFraction', 0.05))),
};

const topology: Check = {
  id: 'gpu.topology',
  area: 'gpu',
  title: 'GPU interconnect (NVLink, PCIe, sockets)',
  run: onTopology((t) => {
    const v = topologyVerdict(t);
    return {...v, data: {...v.data, p2p: t.p2p}};
  }),
};

const mig: Check = {id: 'gpu.mig', area: 'gpu', title: 'MIG mode', run: onTopology(migVerdict)};

const ecc: Check = {id: 'gpu.ecc', area: 'gpu', title: 'ECC mode and uncorrected errors', run: onTopology(eccVerdict)};

/** Measures one CUDA device: `gpuBandwidth` from the native module, or a recorded answer in tests. */
export type MeasureBandwidth = (sizeMiB: number, ordinal: number) => GpuBandwidth | Promise<GpuBandwidth>;

/** What the native module answers when it was built without the GPU probe: nothing to measure with. */
const NOT_MEASURED = /^bandwidth not measured/;

function bandwidthCheck(measure: MeasureBandwidth): Check {
  return {
    id: 'gpu.bandwidth',
    area: 'gpu',
    title: 'Host↔GPU copy bandwidth',
    thorough: true,
    // cuInit alone can take seconds on a big machine, then one copy pair per GPU.
    timeoutMs: 30_000,
    run: onTopology(async (t, ctx) => {
      const sizeMiB = numberParam(ctx.params, 'sizeMiB', 64);
      const samples = [];
      for (let ordinal = 0; ordinal < t.gpus.length; ordinal++) {
        const r = await measure(sizeMiB, ordinal);
        if (!r.ok && NOT_MEASURED.test(r.error)) return {status: 'skip', finding: r.error};
        samples.push(r.ok ? {ordinal, ok: true as const, h2dGBps: r.h2dGBps, d2dGBps: r.d2dGBps} : {ordinal, ok: false as const, error: r.error});
      }
      return bandwidthVerdict(samples, numberParam(ctx.params, 'minH2DGBps', 10));
    }),
  };
}

/** The gpu checks, in report order, measuring bandwidth with `bandwidth` (tests inject one). */
export function makeGpuChecks({bandwidth = (sizeMiB, ordinal) => gpuBandwidth(sizeMiB, {ordinal})}: {bandwidth?: MeasureBandwidth} = {}): Check[] {
  return [driver, cuda, devices, topology, mig, ecc, bandwidthCheck(bandwidth)];
}

export const gpuChecks: readonly Check[] = makeGpuChecks();
