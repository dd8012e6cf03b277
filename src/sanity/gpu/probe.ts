/**
 * One way to learn the GPUs: NVML in-process first (fast, and it sees NVLink per link), then
 * `nvidia-smi` when NVML is not 'ok' (no native addon, no libnvidia-ml in this process's view, or
 * it failed). `DYNAMO_NO_NVML=1` skips NVML, so a test can put a fake nvidia-smi on PATH and drive
 * the whole command on a machine that has a real driver, or none.
 */
import {probeNvml} from '../../native/gpu.js';
import {probeNvidiaSmi, type RunCommand} from './smi-probe.js';
import type {GpuProbe} from './topology.js';

export interface ProbeGpusOptions {
  run: RunCommand;
  /** NVML through the native module; default `probeNvml` from src/native/gpu.ts. */
  nvml?: () => GpuProbe | Promise<GpuProbe>;
  env?: NodeJS.ProcessEnv;
}

async function tryNvml(nvml: () => GpuProbe | Promise<GpuProbe>): Promise<GpuProbe> {
  try {
    return await nvml();
  } catch (e) {
    return {state: 'error', reason: `NVML: ${(e as Error).message}`};
  }
}

export async function probeGpus({run, nvml = () => probeNvml(), env = process.env}: ProbeGpusOptions): Promise<GpuProbe> {
  const viaNvml: GpuProbe | undefined = env.DYNAMO_NO_NVML === '1' ? undefined : await tryNvml(nvml);
  if (viaNvml?.state === 'ok') return viaNvml;
  const viaSmi = await probeNvidiaSmi(run);
  if (viaSmi.state === 'ok' || viaNvml?.state !== 'error') return viaSmi;
  // NVML loaded but failed (a driver/library version mismatch, a lost GPU): that is the news.
  return {state: 'error', reason: viaSmi.state === 'error' ? `${viaNvml.reason}; ${viaSmi.reason}` : viaNvml.reason};
}
