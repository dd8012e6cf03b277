/**
 * This machine's GPUs through the native addon: NVML for the topology every sanity verdict reads,
 * and the CUDA driver API for --thorough's copy bandwidth. The addon opens both libraries with
 * dlopen when asked, so on a machine without an NVIDIA driver these return a value saying so; they
 * never throw. The mapping from NVML's answer to the topology is src/sanity/gpu/nvml.ts (pure).
 */
import type {RawGpuBandwidth} from './index.cjs';
import {nvmlToProbe} from '../sanity/gpu/nvml.js';
import type {GpuProbe} from '../sanity/gpu/topology.js';
import {type NativeAddon, native, nativeUnavailable} from './index.js';

export type GpuBandwidth = RawGpuBandwidth;

/**
 * The GPUs as NVML reports them. Without the addon this is 'no-driver' (NVML cannot be read this
 * way; callers fall back to nvidia-smi), as it is when libnvidia-ml cannot be opened. CUDA is not
 * initialized here: the topology does not need it, and cuInit costs up to seconds on a big machine.
 */
export function probeNvml(addon: NativeAddon | undefined = native): GpuProbe {
  if (typeof addon?.gpuProbe !== 'function') return {state: 'no-driver', reason: `NVML not read: ${whyNoAddon(addon)}`};
  try {
    return nvmlToProbe(addon.gpuProbe({cuda: false}).nvml);
  } catch (e) {
    return {state: 'error', reason: `NVML's answer could not be read: ${e instanceof Error ? e.message : String(e)}`};
  }
}

/**
 * Host→device (from pinned memory) and device→device copy bandwidth of `sizeMiB` buffers on CUDA
 * device `ordinal`, in GB/s (10^9 bytes copied per second; a device copy reads and writes each byte,
 * so its memory traffic is twice that). 64 MiB is large enough that per-copy overhead is lost in the
 * noise and small enough to fit beside a running engine.
 */
export function gpuBandwidth(sizeMiB = 64, {ordinal = 0, addon = native}: {ordinal?: number; addon?: NativeAddon} = {}): GpuBandwidth {
  if (typeof addon?.gpuBandwidth !== 'function') return {ok: false, error: `bandwidth not measured: ${whyNoAddon(addon)}`};
  return addon.gpuBandwidth(sizeMiB, ordinal);
}

function whyNoAddon(addon: NativeAddon | undefined): string {
  return addon ? 'the native addon has no GPU probe (rebuild it: npm run build:native)' : `the native addon is not in use (${nativeUnavailable})`;
}
