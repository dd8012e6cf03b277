/**
 * The gpu area: driver, CUDA, devices, topology, MIG, ECC and (--thorough) copy bandwidth, each a
 * verdict (gpu/verdicts.ts) over the one GPU probe the run shares (`ctx.facts.gpu()`: NVML, else
 * nvidia-smi). No driver is not a failure: the mocker runs anywhere, so every gpu check skips. A
 * probe that failed fails `gpu.driver` with what the driver said; the others skip, pointing there.
 *
 * Parameters (from the suite): `gpu.cuda` takes `minCuda` ("12.4"; quote it in YAML) and
 * `neededBy` ("vLLM"); `gpu.devices` takes `busyFraction` (0.05); `gpu.bandwidth` takes
 * `sizeMiB` (64) and `minH2DGBps` (10).
 */
import {type GpuBandwidth, gpuBandwidth} from '../../native/gpu.js';
import type {Check, CheckOutcome, SanityContext} from '../check.js';
import {numberParam, stringParam} from '../params.js';
import type {GpuTopology} from '../gpu/topology.js';
import {
  bandwidthVerdict,
  DEFAULT_MIN_CUDA,
  devicesVerdict,
  driverVerdict,
  eccVerdict,
  migVerdict,
  topologyVerdict,
} from '../gpu/verdicts.js';

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

/** A CUDA version: YAML reads an unquoted 12.4 as a number, so both are taken. */
function cudaParam(params: Record<string, unknown>): string {
  const v = params.minCuda;
  return typeof v === 'number' ? String(v) : stringParam(params, 'minCuda', DEFAULT_MIN_CUDA);
}

const driver: Check = {
  id: 'gpu.driver',
  area: 'gpu',
  title: 'NVIDIA driver',
  async run(ctx) {
    const probe = await ctx.facts.gpu();
    if (probe.state === 'no-driver') return {status: 'skip', finding: NO_DRIVER_FINDING, data: {reason: probe.reason}};
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
  run: onTopology((t, ctx) => driverVerdict(t, cudaParam(ctx.params), stringParam(ctx.params, 'neededBy', 'the engine'))),
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
