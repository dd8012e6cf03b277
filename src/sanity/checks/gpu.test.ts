import {describe, expect, it} from 'vitest';
import {recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import type {GpuBandwidth} from '../../native/gpu.js';
import type {Check, CheckOutcome, SanityContext} from '../check.js';
import {probeNvidiaSmi} from '../gpu/smi-probe.js';
import type {GpuProbe} from '../gpu/topology.js';
import {gpuChecks, type MeasureBandwidth, makeGpuChecks, NO_DRIVER_FINDING} from './gpu.js';

function ctx(probe: GpuProbe, params: Record<string, unknown> = {}, thorough = false): SanityContext {
  return {
    host: 'local',
    thorough,
    params,
    facts: {
      gpu: async () => probe,
      system: () => Promise.reject(new Error('gpu checks read no system facts')),
      listeners: () => Promise.reject(new Error('gpu checks read no ports')),
      run: () => Promise.reject(new Error('gpu checks run no commands: the probe did')),
    },
  };
}

const recorded = (box: string) => probeNvidiaSmi(recordedRun(box));
const brief = ({status, finding, fix}: CheckOutcome) => ({status, finding, fix});
const byId = (checks: readonly Check[], id: string) => checks.find((c) => c.id === id)!;

async function runAll(probe: GpuProbe, params: Record<string, unknown> = {}) {
  const fast = gpuChecks.filter((c) => !c.thorough);
  return Object.fromEntries(await Promise.all(fast.map(async (c) => [c.id, brief(await c.run(ctx(probe, params)))] as const)));
}

describe('gpu checks', () => {
  it('are seven of area "gpu", bandwidth only with --thorough', () => {
    expect(gpuChecks.map((c) => c.id)).toEqual(['gpu.driver', 'gpu.cuda', 'gpu.devices', 'gpu.topology', 'gpu.mig', 'gpu.ecc', 'gpu.bandwidth']);
    expect(new Set(gpuChecks.map((c) => c.area))).toEqual(new Set(['gpu']));
    expect(gpuChecks.filter((c) => c.thorough).map((c) => c.id)).toEqual(['gpu.bandwidth']);
  });

  it('all pass on 8 × H100', async () => {
    expect(await runAll(await recorded('h100-sxm-8'))).toEqual({
      'gpu.driver': {status: 'pass', finding: 'driver 550.54.15 (CUDA 12.4), 8 GPUs, read through nvidia-smi', fix: undefined},
      'gpu.cuda': {status: 'pass', finding: 'driver 550.54.15 supports CUDA 12.4 (the engine needs ≥ 12.4)', fix: undefined},
      'gpu.devices': {status: 'pass', finding: '8 × H100 80GB HBM3, 79.3 GiB free each', fix: undefined},
      'gpu.topology': {status: 'pass', finding: '8 × H100 80GB HBM3, all-to-all NVLink (18 links)', fix: undefined},
      'gpu.mig': {status: 'pass', finding: 'MIG is off', fix: undefined},
      'gpu.ecc': {status: 'pass', finding: 'ECC on, no uncorrected errors since the driver loaded', fix: undefined},
    });
  });

  it('warn about a GPU another process holds on the A100 pairs', async () => {
    const r = await runAll(await recorded('a100-pcie-4-nvlink-pairs'));
    expect(r['gpu.topology']).toEqual({
      status: 'pass',
      finding: '4 × A100 80GB PCIe in NVLink pairs (0-1, 2-3): tensor parallel > 2 crosses PCIe',
      fix: undefined,
    });
    expect(r['gpu.devices']!.status).toBe('warn');
    expect(r['gpu.devices']!.finding).toBe('4 × A100 80GB PCIe, 41.5–79.5 GiB free; GPU 1 has 38.0 of 80.0 GiB in use');
  });

  it('pass on one L4', async () => {
    const r = await runAll(await recorded('l4-1'));
    expect(Object.values(r).map((o) => o.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    expect(r['gpu.topology']!.finding).toBe('1 × L4 (23 GiB), no NVLink');
  });

  it('warn about ECC off on the two-socket L40S box and say where tensor parallel slows', async () => {
    const r = await runAll(await recorded('two-socket-4'));
    expect(r['gpu.topology']!.finding).toBe('4 × L40S (45 GiB) under 2 CPU sockets (0-1 | 2-3): tensor parallel > 2 crosses the CPU interconnect');
    expect(r['gpu.ecc']).toEqual({
      status: 'warn',
      finding: 'ECC is off on GPU 0-3: memory errors go unnoticed',
      fix: 'turn ECC on (sudo nvidia-smi -i 0,1,2,3 -e 1) and reboot',
    });
  });

  it('fail the old driver on CUDA and ECC, and warn about MIG', async () => {
    const r = await runAll(await recorded('old-driver'), {minCuda: '12.4', neededBy: 'vLLM'});
    expect(r['gpu.driver']!.status).toBe('pass');
    expect(r['gpu.cuda']).toEqual({
      status: 'fail',
      finding: 'driver 470.199.02 supports CUDA 11.4; vLLM needs CUDA ≥ 12.4',
      fix: 'upgrade the NVIDIA driver to ≥ 550.54.14 (the first with CUDA 12.4)',
    });
    expect(r['gpu.mig']!.status).toBe('warn');
    expect(r['gpu.ecc']!.status).toBe('fail');
    expect(r['gpu.ecc']!.finding).toBe('GPU 0 (A100-SXM4-40GB, 0000:07:00.0) has 2 uncorrected ECC errors since the driver loaded');
  });

  it('take minCuda as YAML gives it, quoted or not', async () => {
    const probe = await recorded('l4-1');
    const cuda = byId(gpuChecks, 'gpu.cuda');
    expect((await cuda.run(ctx(probe, {minCuda: 12.8}))).finding).toBe('driver 560.35.03 supports CUDA 12.6; the engine needs CUDA ≥ 12.8');
    expect((await cuda.run(ctx(probe, {minCuda: '12.6'}))).status).toBe('pass');
    await expect(cuda.run(ctx(probe, {minCuda: ['12.4']}))).rejects.toThrow('parameter "minCuda" must be a string');
  });

  it('put the p2p matrix and the NVLink groups in the topology data', async () => {
    const probe = await recorded('a100-pcie-4-nvlink-pairs');
    const data = (await byId(gpuChecks, 'gpu.topology').run(ctx(probe))).data!;
    expect(data.nvlinkGroups).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect((data.p2p as {kind: string}[][])[0]!.map((l) => l.kind)).toEqual(['self', 'nvlink', 'host-bridge', 'host-bridge']);
  });

  it('all skip without a driver, gpu.driver saying why', async () => {
    const r = await runAll({state: 'no-driver', reason: 'nvidia-smi not found and NVML not loadable'});
    expect(r['gpu.driver']).toEqual({status: 'skip', finding: NO_DRIVER_FINDING, fix: undefined});
    expect(NO_DRIVER_FINDING).toBe('no NVIDIA driver: GPU checks skipped (the mocker needs none)');
    for (const id of ['gpu.cuda', 'gpu.devices', 'gpu.topology', 'gpu.mig', 'gpu.ecc']) expect(r[id]).toEqual({status: 'skip', finding: 'no NVIDIA driver', fix: undefined});
  });

  it('fail gpu.driver with what the driver said when the probe failed, and skip the rest', async () => {
    const r = await runAll({state: 'error', reason: 'nvidia-smi -q -x failed (exit 18): Failed to initialize NVML: Driver/library version mismatch'});
    expect(r['gpu.driver']).toEqual({
      status: 'fail',
      finding: 'the NVIDIA driver did not answer: nvidia-smi -q -x failed (exit 18): Failed to initialize NVML: Driver/library version mismatch',
      fix: 'run `nvidia-smi` and fix what it reports (a driver/library version mismatch clears after a reboot)',
    });
    expect(r['gpu.topology']).toEqual({status: 'skip', finding: 'the GPUs could not be read (see gpu.driver)', fix: undefined});
  });
});

describe('gpu.bandwidth', () => {
  const measured =
    (answers: Record<number, GpuBandwidth>): MeasureBandwidth =>
    (sizeMiB, ordinal) =>
      answers[ordinal] ?? {ok: false, error: `no answer recorded for ${ordinal} (${sizeMiB} MiB)`};

  it('measures every GPU and reports the range', async () => {
    const asked: [number, number][] = [];
    const bandwidth: MeasureBandwidth = (sizeMiB, ordinal) => {
      asked.push([sizeMiB, ordinal]);
      return {ok: true, ordinal, sizeMiB, pinned: true, h2dGBps: 24 + ordinal, d2dGBps: 1500};
    };
    const check = byId(makeGpuChecks({bandwidth}), 'gpu.bandwidth');
    const out = await check.run(ctx(await recorded('a100-pcie-4-nvlink-pairs'), {sizeMiB: 32}, true));
    expect(brief(out)).toEqual({status: 'pass', finding: 'host→device 24.0–27.0 GB/s, device→device 1500.0 GB/s', fix: undefined});
    expect(asked).toEqual([
      [32, 0],
      [32, 1],
      [32, 2],
      [32, 3],
    ]);
  });

  it('fails on a CUDA error', async () => {
    const check = byId(makeGpuChecks({bandwidth: measured({0: {ok: false, error: 'cuInit: CUDA_ERROR_SYSTEM_DRIVER_MISMATCH'}})}), 'gpu.bandwidth');
    const out = await check.run(ctx(await recorded('l4-1'), {}, true));
    expect([out.status, out.finding]).toEqual(['fail', 'CUDA device 0: cuInit: CUDA_ERROR_SYSTEM_DRIVER_MISMATCH']);
  });

  it('skips when this build cannot measure, and without a driver', async () => {
    const cannot = measured({0: {ok: false, error: 'bandwidth not measured: the native addon is not in use (not built)'}});
    const check = byId(makeGpuChecks({bandwidth: cannot}), 'gpu.bandwidth');
    expect(brief(await check.run(ctx(await recorded('l4-1'), {}, true)))).toEqual({
      status: 'skip',
      finding: 'bandwidth not measured: the native addon is not in use (not built)',
      fix: undefined,
    });
    expect((await check.run(ctx({state: 'no-driver', reason: 'x'}, {}, true))).status).toBe('skip');
  });
});
