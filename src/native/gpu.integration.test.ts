/**
 * The addon's NVML and CUDA paths on a machine without a GPU: stand-ins for libnvidia-ml.so.1 and
 * libcuda.so.1 (test/fixtures/gpu/nvml/fake-driver/) are compiled into a temp dir that a child
 * node process finds first on LD_LIBRARY_PATH. What a real driver returns is gpu.gpu.test.ts's.
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {rmSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {fixture, ROOT, tempDir} from '../../test/helpers/processes.js';
import {nvmlToProbe} from '../sanity/gpu/nvml.js';
import type {RawGpuBandwidth, RawGpuProbe} from './index.cjs';

let libDir: string;

beforeAll(() => {
  libDir = tempDir('dyn-fake-driver-');
  for (const lib of ['libnvidia-ml', 'libcuda'])
    execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', join(libDir, `${lib}.so.1`), fixture(`gpu/nvml/fake-driver/${lib}.c`)]);
});
afterAll(() => rmSync(libDir, {recursive: true, force: true}));

/** Runs `calls` (JS over the loaded addon `a`) in a child that loads the fake driver; its JSON result and stderr. */
function withFakeDriver<T>(calls: string, env: Record<string, string> = {}): {result: T; stderr: string} {
  const script = `const a = require(${JSON.stringify(join(ROOT, 'src/native/index.cjs'))}); process.stdout.write(JSON.stringify(${calls}));`;
  const r = spawnSync(process.execPath, ['-e', script], {env: {...process.env, LD_LIBRARY_PATH: libDir, ...env}, encoding: 'utf8', timeout: 30_000});
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return {result: JSON.parse(r.stdout) as T, stderr: r.stderr};
}

describe('gpuProbe with a stand-in driver', () => {
  it('reads every GPU, link and pair, leaves out what the driver lacks, and shuts NVML down', () => {
    const {result, stderr} = withFakeDriver<RawGpuProbe>('a.gpuProbe()');
    expect(result.nvml).toMatchObject({loaded: true, driverVersion: '999.1.2', cudaDriverVersion: 12080, pairs: [{i: 0, j: 1, commonAncestor: 10, p2pNvlink: true}]});
    if (!result.nvml.loaded) throw new Error('not loaded');
    expect(result.nvml.devices[0]).toEqual({
      index: 0,
      name: 'Fake GPU 0',
      uuid: 'GPU-00000000-0000-0000-0000-000000000000',
      pciBusId: '00000000:1A:00.0',
      memory: {total: 16 * 2 ** 30, used: 2 ** 20, free: 16 * 2 ** 30 - 2 ** 20},
      computeCapability: [9, 0],
      eccMode: 1,
      eccVolatileUncorrected: 0,
      eccAggregateUncorrected: 2,
      persistenceMode: true,
      powerDrawMw: 71500,
      clocks: {sm: 1755, mem: 2619},
      nvlinks: [
        {link: 0, active: true, version: 6, remotePciBusId: '00000000:1B:00.0', remoteIsSwitch: false},
        {link: 1, active: true, version: 6, remotePciBusId: '00000000:1B:00.0', remoteIsSwitch: false},
        {link: 2, active: true, version: 6, remotePciBusId: '00000000:05:00.0', remoteIsSwitch: true},
        {link: 3, active: false},
      ],
    });
    expect(result.nvml.devices[1]).not.toHaveProperty('eccMode');
    expect(result.cuda).toEqual({
      loaded: true,
      driverVersion: 12080,
      deviceCount: 2,
      devices: [0, 1].map((o) => ({ordinal: o, name: `Fake GPU ${o}`, pciBusId: `0000:1${o ? 'b' : 'a'}:00.0`, ccMajor: 9, ccMinor: 0, multiprocessors: 132, totalMemBytes: 16 * 2 ** 30})),
      canAccessPeer: [
        [false, true],
        [true, false],
      ],
    });
    expect(stderr).toContain('fake-nvml: init 1 shutdown 1');

    const probe = nvmlToProbe(result.nvml);
    if (probe.state !== 'ok') throw new Error(probe.reason);
    expect(probe.topology.cudaDriverVersion).toBe('12.8');
    expect(probe.topology.gpus.map((g) => g.pciBusId)).toEqual(['0000:1a:00.0', '0000:1b:00.0']);
    expect(probe.topology.p2p).toEqual([
      [{kind: 'self'}, {kind: 'nvlink', nvlinks: 2}],
      [{kind: 'nvlink', nvlinks: 2}, {kind: 'self'}],
    ]);
  });

  it('leaves CUDA alone when asked to', () => {
    expect(withFakeDriver<RawGpuProbe>('a.gpuProbe({cuda: false})').result).not.toHaveProperty('cuda');
  });

  it("reports NVML's and cuInit's failures with their codes instead of throwing", () => {
    const {result} = withFakeDriver<RawGpuProbe>('a.gpuProbe()', {FAKE_NVML_INIT_RC: '18', FAKE_CUDA_INIT_RC: '802'});
    expect(result).toEqual({
      nvml: {loaded: false, error: 'nvmlInit_v2: Driver/library version mismatch', code: 18},
      cuda: {loaded: false, error: 'cuInit: CUDA_ERROR_SYSTEM_NOT_READY (system not yet initialized)', code: 802},
    });
    expect(nvmlToProbe(result.nvml).state).toBe('error');
    const notLoaded = withFakeDriver<RawGpuProbe>('a.gpuProbe({cuda: false})', {FAKE_NVML_INIT_RC: '9'}).result;
    expect(nvmlToProbe(notLoaded.nvml)).toEqual({state: 'no-driver', reason: 'nvmlInit_v2: Driver Not Loaded'});
  });

  it('names a GPU NVML cannot open and still reads the others', () => {
    const {result, stderr} = withFakeDriver<RawGpuProbe>('a.gpuProbe({cuda: false})', {FAKE_NVML_LOST: '1'});
    if (!result.nvml.loaded) throw new Error('not loaded');
    expect(result.nvml.devices.map((d) => d.error ?? d.name)).toEqual(['Fake GPU 0', 'nvmlDeviceGetHandleByIndex_v2: GPU is lost']);
    expect(result.nvml.pairs).toEqual([]);
    expect(nvmlToProbe(result.nvml)).toEqual({state: 'error', reason: 'GPU 1: nvmlDeviceGetHandleByIndex_v2: GPU is lost'});
    expect(stderr).toContain('fake-nvml: init 1 shutdown 1');
  });
});

describe('gpuBandwidth with a stand-in driver', () => {
  it('times host-to-device and device-to-device copies and frees all it allocated', () => {
    const {result, stderr} = withFakeDriver<RawGpuBandwidth>('a.gpuBandwidth(4, 1)');
    expect(result).toMatchObject({ok: true, ordinal: 1, sizeMiB: 4, pinned: true});
    if (!result.ok) throw new Error(result.error);
    expect(result.h2dGBps).toBeGreaterThan(0);
    expect(result.d2dGBps).toBeGreaterThan(0);
    expect(stderr).toContain('fake-cuda: contexts 0 device buffers 0 host buffers 0');
  });

  it('says which call failed and still frees what it had allocated', () => {
    const {result, stderr} = withFakeDriver<RawGpuBandwidth>('a.gpuBandwidth()', {FAKE_CUDA_ALLOC_FAIL_AT: '2'});
    expect(result).toEqual({ok: false, error: 'cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)'});
    expect(stderr).toContain('fake-cuda: contexts 0 device buffers 0 host buffers 0');
  });

  it('refuses a device that is not there', () => {
    expect(withFakeDriver<RawGpuBandwidth>('a.gpuBandwidth(64, 2)').result).toEqual({ok: false, error: 'no CUDA device 2 (2 visible)'});
  });
});
