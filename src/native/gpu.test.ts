/**
 * The GPU probe on a machine without the NVIDIA driver (CI's and the dev containers'): values that
 * say so, never an exception. The loaded paths run against a stand-in driver in
 * gpu.integration.test.ts and against a real one in gpu.gpu.test.ts.
 */
import {existsSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {gpuBandwidth, probeNvml} from './gpu.js';
import {type NativeAddon, requireNative} from './index.js';

const addon = requireNative();
// A loaded NVIDIA kernel driver; there gpu.gpu.test.ts (npm run test:gpu) checks the probe instead.
const driverLoaded = existsSync('/proc/driver/nvidia/version');

describe.skipIf(driverLoaded)('GPU probe without a driver', () => {
  it('says there is no driver and names the library that could not be opened', () => {
    expect(probeNvml()).toEqual({state: 'no-driver', reason: expect.stringMatching(/^libnvidia-ml\.so\.1: cannot open shared object file/)});
  });

  it('reports both libraries as not loaded in the raw probe', () => {
    expect(addon.gpuProbe()).toEqual({
      nvml: {loaded: false, error: expect.stringMatching(/^libnvidia-ml\.so\.1: cannot open shared object file/)},
      cuda: {loaded: false, error: expect.stringMatching(/^libcuda\.so\.1: cannot open shared object file/)},
    });
  });

  it('measures no bandwidth and says why', () => {
    expect(gpuBandwidth()).toEqual({ok: false, error: expect.stringMatching(/^libcuda\.so\.1: cannot open shared object file/)});
  });

});

describe('GPU probe arguments and old addons', () => {
  it('answers bad arguments with a value too', () => {
    expect(gpuBandwidth(0)).toEqual({ok: false, error: 'sizeMiB must be an integer from 1 to 16384'});
    expect(gpuBandwidth(1.5)).toEqual({ok: false, error: 'sizeMiB must be an integer from 1 to 16384'});
    expect(gpuBandwidth(64, {ordinal: -1})).toEqual({ok: false, error: 'ordinal must be a CUDA device ordinal'});
  });

  it('says the addon must be rebuilt when it predates the GPU probe', () => {
    const old = {version: 'dynamo_native 2'} as unknown as NativeAddon;
    expect(probeNvml(old)).toEqual({state: 'no-driver', reason: 'NVML not read: the native addon has no GPU probe (rebuild it: npm run build:native)'});
    expect(gpuBandwidth(64, {addon: old})).toEqual({ok: false, error: 'bandwidth not measured: the native addon has no GPU probe (rebuild it: npm run build:native)'});
  });
});
