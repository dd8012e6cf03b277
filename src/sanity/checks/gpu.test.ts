import {describe, expect, it} from 'vitest';
import {recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import type {GpuBandwidth} from '../../native/gpu.js';
import type {Check, CheckOutcome, SanityContext} from '../check.js';
import {buildConfigSchema} from '../../config/schema.js';
import {planDeployment} from '../../supervisor/plan.js';
import {probeNvidiaSmi} from '../gpu/smi-probe.js';
import type {GpuProbe} from '../gpu/topology.js';
import {engineHere, gpuChecks, type MeasureBandwidth, makeGpuChecks, NO_DRIVER_FINDING} from './gpu.js';

function ctx(probe: GpuProbe, params: Record<string, unknown> = {}, thorough = false, engine = 'mocker'): SanityContext {
  return {
    host: 'local',
    thorough,
    engine,
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

async function runAll(probe: GpuProbe, engine = 'mocker') {
  const fast = gpuChecks.filter((c) => !c.thorough);
  return Object.fromEntries(await Promise.all(fast.map(async (c) => [c.id, brief(await c.run(ctx(probe, {}, false, engine)))] as const)));
}

describe('gpu checks', () => {
  it('are seven of area "gpu", bandwidth only with --thorough', () => {
    expect(gpuChecks.map((c) => c.id)).toEqual(['gpu.driver', 'gpu.cuda', 'gpu.devices', 'gpu.topology', 'gpu.mig', 'gpu.ecc', 'gpu.bandwidth']);
    expect(new Set(gpuChecks.map((c) => c.area))).toEqual(new Set(['gpu']));
    expect(gpuChecks.filter((c) => c.thorough).map((c) => c.id)).toEqual(['gpu.bandwidth']);
  });

  it('all pass on 8 × H100 for the mocker, which needs no CUDA', async () => {
    expect(await runAll(await recorded('h100-sxm-8'))).toEqual({
      'gpu.driver': {status: 'pass', finding: 'driver 550.54.15 (CUDA 12.4), 8 GPUs, read through nvidia-smi', fix: undefined},
      'gpu.cuda': {
        status: 'skip',
        finding: 'the mocker needs no CUDA; driver 550.54.15 supports CUDA 12.4 (vLLM, SGLang and TensorRT-LLM need ≥ 13.0)',
        fix: undefined,
      },
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

  it('pass on one L4 (CUDA skipped for the mocker)', async () => {
    const r = await runAll(await recorded('l4-1'));
    expect(Object.values(r).map((o) => o.status)).toEqual(['pass', 'skip', 'pass', 'pass', 'pass', 'pass']);
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

  it('fail the old driver on CUDA (for vLLM) and ECC, and warn about MIG', async () => {
    const r = await runAll(await recorded('old-driver'), 'vllm');
    expect(r['gpu.driver']!.status).toBe('pass');
    expect(r['gpu.cuda']).toEqual({
      status: 'fail',
      finding: 'driver 470.199.02 supports CUDA 11.4; vLLM 0.33.0 needs CUDA ≥ 13.0',
      fix: 'upgrade the NVIDIA driver to ≥ 580.65.06 (the first with CUDA 13.0)',
    });
    expect(r['gpu.mig']!.status).toBe('warn');
    expect(r['gpu.ecc']!.status).toBe('fail');
    expect(r['gpu.ecc']!.finding).toBe('GPU 0 (A100-SXM4-40GB, 0000:07:00.0) has 2 uncorrected ECC errors since the driver loaded');
  });

  // The CUDA verdict per engine on every recorded box: the engine decides what the driver must support.
  const CUDA_13 = 'upgrade the NVIDIA driver to ≥ 580.65.06 (the first with CUDA 13.0)';
  it.each([
    ['h100-sxm-8', 'vllm', 'fail', 'driver 550.54.15 supports CUDA 12.4; vLLM 0.33.0 needs CUDA ≥ 13.0', CUDA_13],
    ['h100-sxm-8', 'sglang', 'fail', 'driver 550.54.15 supports CUDA 12.4; SGLang 0.5.23 needs CUDA ≥ 13.0', CUDA_13],
    ['h100-sxm-8', 'trtllm', 'fail', 'driver 550.54.15 supports CUDA 12.4; TensorRT-LLM 1.4.0rc2 needs CUDA ≥ 13.0', CUDA_13],
    ['l4-1', 'vllm', 'fail', 'driver 560.35.03 supports CUDA 12.6; vLLM 0.33.0 needs CUDA ≥ 13.0', CUDA_13],
    ['a100-pcie-4-nvlink-pairs', 'sglang', 'fail', 'driver 550.90.07 supports CUDA 12.4; SGLang 0.5.23 needs CUDA ≥ 13.0', CUDA_13],
    ['two-socket-4', 'trtllm', 'fail', 'driver 550.54.15 supports CUDA 12.4; TensorRT-LLM 1.4.0rc2 needs CUDA ≥ 13.0', CUDA_13],
    ['old-driver', 'sglang', 'fail', 'driver 470.199.02 supports CUDA 11.4; SGLang 0.5.23 needs CUDA ≥ 13.0', CUDA_13],
    ['old-driver', 'mocker', 'skip', 'the mocker needs no CUDA; driver 470.199.02 supports CUDA 11.4 (vLLM, SGLang and TensorRT-LLM need ≥ 13.0)', undefined],
  ])('gpu.cuda on %s for --engine %s: %s', async (box, engine, status, finding, fix) => {
    const out = await byId(gpuChecks, 'gpu.cuda').run(ctx(await recorded(box), {}, false, engine));
    expect(brief(out)).toEqual({status, finding, fix});
  });

  it('gpu.cuda passes a CUDA 13 driver for vLLM and SGLang, and warns TensorRT-LLM below the CUDA 13.2 it is built with', async () => {
    const probe = await recorded('h100-sxm-8');
    if (probe.state !== 'ok') throw new Error(probe.state);
    const r580: GpuProbe = {state: 'ok', topology: {...probe.topology, driverVersion: '580.65.06', cudaDriverVersion: '13.0'}};
    const cuda = byId(gpuChecks, 'gpu.cuda');
    expect(brief(await cuda.run(ctx(r580, {}, false, 'vllm')))).toEqual({status: 'pass', finding: 'driver 580.65.06 supports CUDA 13.0 (vLLM 0.33.0 needs ≥ 13.0)', fix: undefined});
    expect((await cuda.run(ctx(r580, {}, false, 'sglang'))).status).toBe('pass');
    expect(brief(await cuda.run(ctx(r580, {}, false, 'trtllm')))).toEqual({
      status: 'warn',
      finding:
        'driver 580.65.06 supports CUDA 13.0; TensorRT-LLM 1.4.0rc2 is built with CUDA 13.2: it runs by minor-version compatibility, but kernels it compiles at run time need CUDA 13.2',
      fix: 'upgrade the NVIDIA driver to a release that supports CUDA 13.2, or install cuda-compat-13-2 (CUDA forward compatibility, data-center GPUs)',
    });
    const r595: GpuProbe = {state: 'ok', topology: {...probe.topology, cudaDriverVersion: '13.2'}};
    expect((await cuda.run(ctx(r595, {}, false, 'trtllm'))).status).toBe('pass');
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

  it('all skip without a driver for the mocker, gpu.driver saying why', async () => {
    const r = await runAll({state: 'no-driver', reason: 'nvidia-smi not found and NVML not loadable'});
    expect(r['gpu.driver']).toEqual({status: 'skip', finding: NO_DRIVER_FINDING, fix: undefined});
    expect(NO_DRIVER_FINDING).toBe('no NVIDIA driver: GPU checks skipped (the mocker needs none)');
    for (const id of ['gpu.cuda', 'gpu.devices', 'gpu.topology', 'gpu.mig', 'gpu.ecc']) expect(r[id]).toEqual({status: 'skip', finding: 'no NVIDIA driver', fix: undefined});
  });

  it('fail gpu.driver without a driver for a real engine, naming it and the driver it needs', async () => {
    const r = await runAll({state: 'no-driver', reason: 'nvidia-smi not found and NVML not loadable'}, 'vllm');
    expect(r['gpu.driver']).toEqual({
      status: 'fail',
      finding: 'no NVIDIA driver: vLLM 0.33.0 needs one with CUDA ≥ 13.0',
      fix: 'install the NVIDIA driver (≥ 580.65.06) until `nvidia-smi` lists the GPUs (in a container: docker run --gpus all), or use --engine mocker',
    });
    expect(r['gpu.cuda']!.status).toBe('skip');
    expect((await runAll({state: 'no-driver', reason: 'x'}, 'llamacpp'))['gpu.driver']!.finding).toBe('no NVIDIA driver: GPU checks skipped (llama.cpp needs none)');
  });

  it('judge the engine where its workers run: the frontend-only host needs no driver', async () => {
    const config = buildConfigSchema({allowUnavailable: true}).parse({model: 'qwen3-0.6b', engine: 'vllm', hosts: {gpu1: {address: '10.0.0.1'}}, workers: {agg: {hosts: ['gpu1']}}});
    const deployment = {config, plan: planDeployment(config, {runDir: '/runs/demo', selfArgv: ['/usr/local/bin/dynamo']})};
    const at = (host: string, probe: GpuProbe): SanityContext => ({...ctx(probe, {}, false, 'vllm'), host, deployment});
    const none: GpuProbe = {state: 'no-driver', reason: 'x'};
    expect([engineHere(at('local', none)), engineHere(at('gpu1', none))]).toEqual([undefined, 'vllm']);
    const driver = byId(gpuChecks, 'gpu.driver');
    expect(brief(await driver.run(at('local', none)))).toEqual({status: 'skip', finding: 'no NVIDIA driver: GPU checks skipped (no worker runs on this host)', fix: undefined});
    expect((await driver.run(at('gpu1', none))).status).toBe('fail');
    expect((await byId(gpuChecks, 'gpu.cuda').run(at('local', await recorded('l4-1')))).finding).toMatch(/^no worker runs on this host: no CUDA needed; driver 560\.35\.03 supports CUDA 12\.6/);
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
