import {describe, expect, it} from 'vitest';
import {recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import type {CheckOutcome} from '../check.js';
import {probeNvidiaSmi} from './smi-probe.js';
import {p2pLinkOf} from './topo-matrix.js';
import type {GpuDevice, GpuTopology} from './topology.js';
import {
  bandwidthVerdict,
  describeGpus,
  devicesVerdict,
  driverVerdict,
  eccVerdict,
  indexList,
  migVerdict,
  minDriverForCuda,
  noCudaNeeded,
  topologyVerdict,
} from './verdicts.js';

async function box(name: string): Promise<GpuTopology> {
  const probe = await probeNvidiaSmi(recordedRun(name));
  if (probe.state !== 'ok') throw new Error(`${name}: ${probe.reason}`);
  return probe.topology;
}

const line = (o: CheckOutcome) => [o.status, o.finding, o.fix];

function gpu(index: number, over: Partial<GpuDevice> = {}): GpuDevice {
  return {index, name: 'NVIDIA RTX A6000', uuid: '', pciBusId: `0000:0${index}:00.0`, memory: {totalMiB: 49140, usedMiB: 0, freeMiB: 48675}, nvlinks: [], ...over};
}

function topo(cells: string[][], gpus: GpuDevice[] = cells.map((_, i) => gpu(i))): GpuTopology {
  return {source: 'nvidia-smi', driverVersion: '550.54.15', cudaDriverVersion: '12.4', gpus, p2p: cells.map((r) => r.map((c) => p2pLinkOf(c)!))};
}

describe('topologyVerdict on the recorded boxes', () => {
  it.each([
    ['h100-sxm-8', '8 × H100 80GB HBM3, all-to-all NVLink (18 links)'],
    ['a100-pcie-4-nvlink-pairs', '4 × A100 80GB PCIe in NVLink pairs (0-1, 2-3): tensor parallel > 2 crosses PCIe'],
    ['l4-1', '1 × L4 (23 GiB), no NVLink'],
    ['two-socket-4', '4 × L40S (45 GiB) under 2 CPU sockets (0-1 | 2-3): tensor parallel > 2 crosses the CPU interconnect'],
    ['old-driver', '1 × A100-SXM4-40GB, no NVLink'],
  ])('%s: %s', async (name, finding) => {
    expect(line(topologyVerdict(await box(name)))).toEqual(['pass', finding, undefined]);
  });
});

describe('topologyVerdict on other shapes', () => {
  it('names NVLink groups larger than pairs, and where they stop', () => {
    const quads = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [0, 1, 2, 3, 4, 5, 6, 7].map((j) => (i === j ? 'X' : Math.floor(i / 4) === Math.floor(j / 4) ? 'NV4' : 'SYS')));
    expect(topologyVerdict(topo(quads)).finding).toBe(
      '8 × RTX A6000 (48 GiB) in NVLink groups of 4 (0-3, 4-7): tensor parallel > 4 crosses the CPU interconnect',
    );
  });

  it('says how far PCIe reaches before the CPU interconnect when pairs share a socket', () => {
    const cells = [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      [0, 1, 2, 3, 4, 5, 6, 7].map((j) => (i === j ? 'X' : (i ^ 1) === j ? 'NV4' : Math.floor(i / 4) === Math.floor(j / 4) ? 'NODE' : 'SYS')),
    );
    expect(topologyVerdict(topo(cells)).finding).toBe(
      '8 × RTX A6000 (48 GiB) in NVLink pairs (0-1, 2-3, 4-5, 6-7): tensor parallel > 2 crosses PCIe, > 4 the CPU interconnect',
    );
  });

  it('names GPUs left without NVLink', () => {
    const cells = [
      ['X', 'NV4', 'NODE'],
      ['NV4', 'X', 'NODE'],
      ['NODE', 'NODE', 'X'],
    ];
    expect(topologyVerdict(topo(cells)).finding).toBe('3 × RTX A6000 (48 GiB) in NVLink groups (0-1), GPU 2 without NVLink: tensor parallel > 2 crosses PCIe');
  });

  it('says PCIe only for one socket without NVLink', () => {
    expect(topologyVerdict(topo([['X', 'PHB'], ['PHB', 'X']])).finding).toBe('2 × RTX A6000 (48 GiB), no NVLink: tensor parallel runs over PCIe');
  });

  it('lists mixed models and uneven NVLink widths', () => {
    const t = topo(
      [
        ['X', 'NV12', 'NV18'],
        ['NV12', 'X', 'NV12'],
        ['NV18', 'NV12', 'X'],
      ],
      [gpu(0, {name: 'NVIDIA H100 80GB HBM3'}), gpu(1, {name: 'NVIDIA H100 80GB HBM3'}), gpu(2, {name: 'NVIDIA H200'})],
    );
    expect(topologyVerdict(t).finding).toBe('3 GPUs (H100 80GB HBM3, H200), all-to-all NVLink (12–18 links)');
  });

  it('fails when the driver lists no GPU', () => {
    expect(line(topologyVerdict(topo([])))).toEqual([
      'fail',
      'driver 550.54.15 is loaded but lists no GPUs',
      'run `nvidia-smi -L`; in a container, start it with the GPUs (docker run --gpus all)',
    ]);
  });
});

describe('driverVerdict', () => {
  const vllm = {neededBy: 'vLLM 0.33.0', minCuda: '13.0'};
  const old = {neededBy: 'vLLM 0.6', minCuda: '12.4'};
  it.each([
    ['h100-sxm-8', 'pass', 'driver 550.54.15 supports CUDA 12.4 (vLLM 0.6 needs ≥ 12.4)', undefined],
    ['a100-pcie-4-nvlink-pairs', 'pass', 'driver 550.90.07 supports CUDA 12.4 (vLLM 0.6 needs ≥ 12.4)', undefined],
    ['l4-1', 'pass', 'driver 560.35.03 supports CUDA 12.6 (vLLM 0.6 needs ≥ 12.4)', undefined],
    ['two-socket-4', 'pass', 'driver 550.54.15 supports CUDA 12.4 (vLLM 0.6 needs ≥ 12.4)', undefined],
    ['old-driver', 'fail', 'driver 470.199.02 supports CUDA 11.4; vLLM 0.6 needs CUDA ≥ 12.4', 'upgrade the NVIDIA driver to ≥ 550.54.14 (the first with CUDA 12.4)'],
  ])('%s against CUDA 12.4: %s', async (name, status, finding, fix) => {
    expect(line(driverVerdict(await box(name), old))).toEqual([status, finding, fix]);
  });

  it('fails a box below the need and names the first driver that meets it', async () => {
    expect(line(driverVerdict(await box('h100-sxm-8'), vllm))).toEqual([
      'fail',
      'driver 550.54.15 supports CUDA 12.4; vLLM 0.33.0 needs CUDA ≥ 13.0',
      'upgrade the NVIDIA driver to ≥ 580.65.06 (the first with CUDA 13.0)',
    ]);
    expect(driverVerdict(await box('l4-1'), {...vllm, minCuda: '12.6'}).status).toBe('pass');
    expect(driverVerdict(await box('l4-1'), {...vllm, minCuda: '12.10'}).status).toBe('fail');
    expect(() => driverVerdict(topo([['X']]), {...vllm, minCuda: 'latest'})).toThrow('minCuda "latest" is not a CUDA version');
  });

  it('warns between the minimum and the CUDA the engine is built with (minor-version compatibility)', async () => {
    const t = {...(await box('h100-sxm-8')), driverVersion: '580.65.06', cudaDriverVersion: '13.0'};
    const need = {neededBy: 'TensorRT-LLM 1.4.0rc2', minCuda: '13.0', builtWith: '13.2'};
    expect(line(driverVerdict(t, need))).toEqual([
      'warn',
      'driver 580.65.06 supports CUDA 13.0; TensorRT-LLM 1.4.0rc2 is built with CUDA 13.2: it runs by minor-version compatibility, but kernels it compiles at run time need CUDA 13.2',
      'upgrade the NVIDIA driver to a release that supports CUDA 13.2, or install cuda-compat-13-2 (CUDA forward compatibility, data-center GPUs)',
    ]);
    expect(driverVerdict({...t, cudaDriverVersion: '13.2'}, need).status).toBe('pass');
    expect(driverVerdict(await box('h100-sxm-8'), need).status).toBe('fail');
  });

  it('names no driver it does not know', async () => {
    expect(driverVerdict(await box('h100-sxm-8'), {...vllm, minCuda: '14.1'}).fix).toBe('upgrade the NVIDIA driver to a release that supports CUDA 14.1');
  });

  it('warns when the driver does not say its CUDA version', () => {
    const t = {...topo([['X']]), cudaDriverVersion: ''};
    expect(line(driverVerdict(t, vllm))).toEqual([
      'warn',
      'driver 550.54.15 does not say which CUDA it supports; vLLM 0.33.0 needs CUDA ≥ 13.0',
      'run `nvidia-smi` and read "CUDA Version" in its header',
    ]);
  });

  it('skips when nothing needs CUDA, saying what the real engines would need', async () => {
    const t = await box('l4-1');
    expect(line(noCudaNeeded(t, 'the mocker needs no CUDA', {vLLM: '13.0', SGLang: '13.0'}))).toEqual([
      'skip',
      'the mocker needs no CUDA; driver 560.35.03 supports CUDA 12.6 (vLLM and SGLang need ≥ 13.0)',
      undefined,
    ]);
    expect(noCudaNeeded(t, 'the mocker needs no CUDA', {vLLM: '13.0', SGLang: '12.9', X: '13.2'}).finding).toBe(
      'the mocker needs no CUDA; driver 560.35.03 supports CUDA 12.6 (vLLM ≥ 13.0, SGLang ≥ 12.9 and X ≥ 13.2)',
    );
  });

  it('maps CUDA versions to the first driver that runs them, skipping the CUDA 12.7 that never shipped', () => {
    expect(['11.4', '12.0', '12.4', '12.7', '12.8', '13.0', '13.1'].map(minDriverForCuda)).toEqual([
      '470.42.01',
      '525.60.13',
      '550.54.14',
      '570.26',
      '570.26',
      '580.65.06',
      undefined,
    ]);
  });
});

describe('migVerdict and eccVerdict on the recorded boxes', () => {
  it.each([
    ['h100-sxm-8', ['pass', 'MIG is off', undefined], ['pass', 'ECC on, no uncorrected errors since the driver loaded', undefined]],
    [
      'a100-pcie-4-nvlink-pairs',
      ['pass', 'MIG is off', undefined],
      ['pass', 'ECC on, no uncorrected errors since the driver loaded', undefined],
    ],
    ['l4-1', ['pass', 'MIG is not available on these GPUs', undefined], ['pass', 'ECC on, no uncorrected errors since the driver loaded', undefined]],
    [
      'two-socket-4',
      ['pass', 'MIG is not available on these GPUs', undefined],
      ['warn', 'ECC is off on GPU 0-3: memory errors go unnoticed', 'turn ECC on (sudo nvidia-smi -i 0,1,2,3 -e 1) and reboot'],
    ],
    [
      'old-driver',
      [
        'warn',
        'MIG is on for GPU 0: engines see MIG slices, not whole GPUs',
        'turn MIG off (sudo nvidia-smi -i 0 -mig 0, then reset the GPU) or deploy onto the MIG devices by UUID (nvidia-smi -L)',
      ],
      [
        'fail',
        'GPU 0 (A100-SXM4-40GB, 0000:07:00.0) has 2 uncorrected ECC errors since the driver loaded',
        'drain GPU 0 and reset it (sudo nvidia-smi -r -i 0) or reboot; if errors come back, the GPU needs service',
      ],
    ],
  ])('%s', async (name, mig, ecc) => {
    const t = await box(name);
    expect(line(migVerdict(t))).toEqual(mig);
    expect(line(eccVerdict(t))).toEqual(ecc);
  });

  it('mentions lifetime errors without failing, and fails naming every GPU with fresh ones', () => {
    const ecc = (volatileUncorrected: number, aggregateUncorrected: number) => ({mode: 'enabled' as const, volatileUncorrected, aggregateUncorrected});
    const t = topo(
      [
        ['X', 'PHB', 'PHB'],
        ['PHB', 'X', 'PHB'],
        ['PHB', 'PHB', 'X'],
      ],
      [gpu(0, {ecc: ecc(0, 3)}), gpu(1, {ecc: ecc(1, 1)}), gpu(2, {ecc: ecc(4, 9)})],
    );
    expect(line(eccVerdict(t))).toEqual([
      'fail',
      'GPU 1 (RTX A6000, 0000:01:00.0) has 1 uncorrected ECC error since the driver loaded; GPU 2 (RTX A6000, 0000:02:00.0) has 4 uncorrected ECC errors since the driver loaded',
      'drain GPU 1,2 and reset it (sudo nvidia-smi -r -i 1,2) or reboot; if errors come back, the GPU needs service',
    ]);
    t.gpus[1]!.ecc = ecc(0, 1);
    t.gpus[2]!.ecc = ecc(0, 0);
    expect(line(eccVerdict(t))).toEqual(['pass', 'ECC on, no uncorrected errors since the driver loaded (GPU 0: 3 on record, GPU 1: 1 on record)', undefined]);
  });
});

describe('devicesVerdict on the recorded boxes', () => {
  it.each([
    ['h100-sxm-8', 'pass', '8 × H100 80GB HBM3, 79.3 GiB free each'],
    ['a100-pcie-4-nvlink-pairs', 'warn', '4 × A100 80GB PCIe, 41.5–79.5 GiB free; GPU 1 has 38.0 of 80.0 GiB in use'],
    ['l4-1', 'pass', '1 × L4 (23 GiB), 22.1 GiB free'],
    ['two-socket-4', 'pass', '4 × L40S (45 GiB), 44.4 GiB free each'],
    ['old-driver', 'pass', '1 × A100-SXM4-40GB, 39.6 GiB free'],
  ])('%s: %s', async (name, status, finding) => {
    const v = devicesVerdict(await box(name));
    expect([v.status, v.finding]).toEqual([status, finding]);
  });

  it('tells how to find who holds a busy GPU and lists every device in data', async () => {
    const v = devicesVerdict(await box('a100-pcie-4-nvlink-pairs'));
    expect(v.fix).toBe(
      'see who holds it (nvidia-smi --query-compute-apps=gpu_bus_id,pid,process_name,used_memory --format=csv) and stop it, or leave GPU 1 out with CUDA_VISIBLE_DEVICES',
    );
    expect((v.data!.devices as unknown[])[1]).toEqual({
      index: 1,
      name: 'NVIDIA A100 80GB PCIe',
      uuid: 'GPU-f6ca2fa1-d4f4-91fe-9fa5-21fb48d1daf6',
      pciBusId: '0000:31:00.0',
      totalMiB: 81920,
      freeMiB: 42487,
      usedMiB: 38912,
      numaNode: 0,
    });
    expect(devicesVerdict(await box('a100-pcie-4-nvlink-pairs'), 0.5).status).toBe('pass');
  });
});

describe('bandwidthVerdict', () => {
  it('passes with the range measured', () => {
    const v = bandwidthVerdict([
      {ordinal: 0, ok: true, h2dGBps: 25.31, d2dGBps: 1402.2},
      {ordinal: 1, ok: true, h2dGBps: 24.9, d2dGBps: 1398.0},
    ]);
    expect(line(v)).toEqual(['pass', 'host→device 24.9–25.3 GB/s, device→device 1398.0–1402.2 GB/s', undefined]);
  });

  it('warns on a slow host link, and fails on a copy that failed', () => {
    expect(line(bandwidthVerdict([{ordinal: 0, ok: true, h2dGBps: 6.2, d2dGBps: 690}]))).toEqual([
      'warn',
      'host→device 6.2 GB/s, device→device 690.0 GB/s; CUDA device 0 below 10 GB/s from the host',
      'check the PCIe link (nvidia-smi -q -d PCI: current vs max generation and width) and which CPU the process runs on (nvidia-smi topo -m)',
    ]);
    expect(bandwidthVerdict([{ordinal: 1, ok: false, error: 'cuInit: CUDA_ERROR_NO_DEVICE'}]).finding).toBe('CUDA device 1: cuInit: CUDA_ERROR_NO_DEVICE');
  });
});

describe('names', () => {
  it('writes index lists as ranges when they are consecutive', () => {
    expect([indexList([0]), indexList([2, 3]), indexList([3, 1, 2]), indexList([0, 2])]).toEqual(['0', '2-3', '1-3', '0+2']);
  });

  it('adds the memory only when the model name does not carry it, rounded up as cards are labelled', () => {
    expect(describeGpus([gpu(0, {name: 'NVIDIA L4', memory: {totalMiB: 23034, usedMiB: 0, freeMiB: 0}})])).toBe('1 × L4 (23 GiB)');
    expect(describeGpus([gpu(0, {name: 'NVIDIA H200', memory: {totalMiB: 143771, usedMiB: 0, freeMiB: 0}})])).toBe('1 × H200 (141 GiB)');
    expect(describeGpus([gpu(0, {name: 'NVIDIA A100-SXM4-80GB'})])).toBe('1 × A100-SXM4-80GB');
  });
});
