import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import type {RawGpuProbe, RawNvml} from '../../native/index.cjs';
import {cudaVersion, nvmlToProbe, nvmlToTopology, type RawNvmlLoaded} from './nvml.js';
import type {GpuTopology, P2PLink} from './topology.js';

// What the native addon's gpuProbe({cuda: false}) returns on the recorded boxes (make-fixtures.mjs).
const fixture = (name: string): RawNvmlLoaded =>
  (JSON.parse(readFileSync(new URL(`../../../test/fixtures/gpu/nvml/${name}.json`, import.meta.url), 'utf8')) as RawGpuProbe).nvml as RawNvmlLoaded;

const S: P2PLink = {kind: 'self'};
const NV = (nvlinks: number): P2PLink => ({kind: 'nvlink', nvlinks});
const PIX: P2PLink = {kind: 'pcie-switch'};
const PHB: P2PLink = {kind: 'host-bridge'};
const SYS: P2PLink = {kind: 'cross-socket'};

function topology(raw: RawNvml): GpuTopology {
  const probe = nvmlToProbe(raw);
  if (probe.state !== 'ok') throw new Error(`expected a topology, got ${probe.state}: ${probe.reason}`);
  return probe.topology;
}

describe('nvmlToTopology', () => {
  it('reads an HGX H100 as 8 GPUs joined all-to-all through NVSwitches by 18 NVLink 4 links each', () => {
    const raw = fixture('h100-sxm-8');
    const t = topology(raw);
    expect(t.source).toBe('nvml');
    expect(t.driverVersion).toBe('550.54.15');
    expect(t.cudaDriverVersion).toBe('12.4');
    expect(t.gpus.map((g) => g.pciBusId)).toEqual([
      '0000:18:00.0',
      '0000:2a:00.0',
      '0000:3a:00.0',
      '0000:5d:00.0',
      '0000:9a:00.0',
      '0000:ab:00.0',
      '0000:ba:00.0',
      '0000:db:00.0',
    ]);
    expect(t.gpus[0]).toEqual({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      uuid: raw.devices[0]!.uuid,
      pciBusId: '0000:18:00.0',
      memory: {totalMiB: 81559, usedMiB: 4, freeMiB: 81209},
      computeCapability: '9.0',
      mig: 'disabled',
      ecc: {mode: 'enabled', volatileUncorrected: 0, aggregateUncorrected: 0},
      persistenceMode: true,
      power: {drawW: 69.12, limitW: 700},
      clocks: {smMHz: 345, memMHz: 2619, maxSmMHz: 1980},
      numaNode: 0,
      nvlinks: Array.from({length: 18}, (_, link) => ({
        link,
        active: true,
        version: 4,
        remotePciBusId: ['0000:05:00.0', '0000:06:00.0', '0000:07:00.0', '0000:08:00.0'][link < 5 ? 0 : link < 9 ? 1 : link < 13 ? 2 : 3],
      })),
    });
    expect(t.gpus.map((g) => g.numaNode)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(t.p2p).toEqual(Array.from({length: 8}, (_, i) => Array.from({length: 8}, (_, j) => (i === j ? S : NV(18)))));
  });

  it("reads NVML's NVLink version codes as generations, never newer than the GPU's architecture", () => {
    const raw = structuredClone(fixture('h100-sxm-8'));
    raw.devices[0]!.nvlinks[0]!.version = 7; // NVLINK_VERSION_5_0, as some drivers say of H100
    raw.devices[0]!.nvlinks[1]!.version = 4; // NVLINK_VERSION_3_0
    const t = topology(raw);
    expect(t.gpus[0]!.nvlinks.slice(0, 3).map((l) => l.version)).toEqual([4, 3, 4]);
    expect(topology(fixture('a100-pcie-4-nvlink-pairs')).gpus[0]!.nvlinks[0]!.version).toBe(3);
  });

  it('counts only the active switch links of the GPU it starts from', () => {
    const raw = structuredClone(fixture('h100-sxm-8'));
    raw.devices[3]!.nvlinks[0]!.active = false;
    raw.devices[3]!.nvlinks[17]!.active = false;
    const t = topology(raw);
    expect(t.p2p[3]![0]).toEqual(NV(16));
    expect(t.p2p[0]![3]).toEqual(NV(18));
    expect(t.gpus[3]!.nvlinks.filter((l) => l.active)).toHaveLength(16);
  });

  it('falls back to PCIe when a GPU has no active NVLink left (fabric down)', () => {
    const raw = structuredClone(fixture('h100-sxm-8'));
    for (const l of raw.devices[5]!.nvlinks) l.active = false;
    const t = topology(raw);
    expect(t.p2p[5]!.map((l) => l.kind)).toEqual(['cross-socket', 'cross-socket', 'cross-socket', 'cross-socket', 'host-bridge', 'self', 'host-bridge', 'host-bridge']);
    expect(t.p2p[0]![1]).toEqual(NV(18));
  });

  it('tells switch links by their far end on drivers without nvmlDeviceGetNvLinkRemoteDeviceType', () => {
    const raw = structuredClone(fixture('h100-sxm-8'));
    for (const d of raw.devices) for (const l of d.nvlinks) delete l.remoteIsSwitch;
    expect(topology(raw).p2p).toEqual(topology(fixture('h100-sxm-8')).p2p);
    const a100 = structuredClone(fixture('a100-pcie-4-nvlink-pairs'));
    for (const d of a100.devices) for (const l of d.nvlinks) delete l.remoteIsSwitch;
    expect(topology(a100).p2p).toEqual(topology(fixture('a100-pcie-4-nvlink-pairs')).p2p);
  });

  it('reads four bridged A100 PCIe as two NVLink pairs of 12 links, the other pairs through host bridges', () => {
    const raw = fixture('a100-pcie-4-nvlink-pairs');
    const t = topology(raw);
    expect(t.driverVersion).toBe('550.90.07');
    expect(t.cudaDriverVersion).toBe('12.4');
    expect(t.gpus[1]).toEqual({
      index: 1,
      name: 'NVIDIA A100 80GB PCIe',
      uuid: raw.devices[1]!.uuid,
      pciBusId: '0000:31:00.0',
      memory: {totalMiB: 81920, usedMiB: 38912, freeMiB: 42487},
      computeCapability: '8.0',
      mig: 'disabled',
      ecc: {mode: 'enabled', volatileUncorrected: 0, aggregateUncorrected: 0},
      persistenceMode: true,
      power: {drawW: 46.77, limitW: 300},
      clocks: {smMHz: 210, memMHz: 1512, maxSmMHz: 1410},
      numaNode: 0,
      nvlinks: Array.from({length: 12}, (_, link) => ({link, active: true, version: 3, remotePciBusId: '0000:17:00.0'})),
    });
    expect(t.p2p).toEqual([
      [S, NV(12), PHB, PHB],
      [NV(12), S, PHB, PHB],
      [PHB, PHB, S, NV(12)],
      [PHB, PHB, NV(12), S],
    ]);
  });

  it('reads one L4 as a GPU without NVLink or MIG', () => {
    const raw = fixture('l4-1');
    const t = topology(raw);
    expect(t).toEqual({
      source: 'nvml',
      driverVersion: '560.35.03',
      cudaDriverVersion: '12.6',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA L4',
          uuid: raw.devices[0]!.uuid,
          pciBusId: '0000:00:03.0',
          memory: {totalMiB: 23034, usedMiB: 1, freeMiB: 22599},
          computeCapability: '8.9',
          mig: 'unsupported',
          ecc: {mode: 'enabled', volatileUncorrected: 0, aggregateUncorrected: 0},
          persistenceMode: true,
          power: {drawW: 16.24, limitW: 72},
          clocks: {smMHz: 210, memMHz: 405, maxSmMHz: 2040},
          numaNode: 0,
          nvlinks: [],
        },
      ],
      p2p: [[S]],
    });
  });

  it('reads a two-socket PCIe box as switch pairs within a socket and cross-socket pairs between', () => {
    const t = topology(fixture('two-socket-4'));
    expect(t.gpus.map((g) => [g.name, g.pciBusId, g.numaNode, g.nvlinks.length])).toEqual([
      ['NVIDIA L40S', '0000:4f:00.0', 0, 0],
      ['NVIDIA L40S', '0000:52:00.0', 0, 0],
      ['NVIDIA L40S', '0000:ce:00.0', 1, 0],
      ['NVIDIA L40S', '0000:d1:00.0', 1, 0],
    ]);
    expect(t.p2p).toEqual([
      [S, PIX, SYS, SYS],
      [PIX, S, SYS, SYS],
      [SYS, SYS, S, PIX],
      [SYS, SYS, PIX, S],
    ]);
  });

  it('judges by NUMA node when NVML gives no common ancestor', () => {
    const raw = {...fixture('two-socket-4'), pairs: []};
    expect(topology(raw).p2p).toEqual([
      [S, PHB, SYS, SYS],
      [PHB, S, SYS, SYS],
      [SYS, SYS, S, PHB],
      [SYS, SYS, PHB, S],
    ]);
  });

  it('leaves out what an older driver could not tell', () => {
    const t = nvmlToTopology({loaded: true, devices: [{index: 0, name: 'Tesla V100-SXM2-16GB', uuid: 'GPU-1', pciBusId: '00000000:1A:00.0', nvlinks: []}], pairs: []});
    expect(t).toEqual({
      source: 'nvml',
      driverVersion: '',
      cudaDriverVersion: '',
      gpus: [
        {
          index: 0,
          name: 'Tesla V100-SXM2-16GB',
          uuid: 'GPU-1',
          pciBusId: '0000:1a:00.0',
          memory: {totalMiB: 0, usedMiB: 0, freeMiB: 0},
          mig: 'unsupported',
          ecc: {mode: 'unsupported'},
          nvlinks: [],
        },
      ],
      p2p: [[S]],
    });
  });
});

describe('nvmlToProbe', () => {
  it('calls a machine without the NVIDIA library one without a driver, naming the dlopen error', () => {
    const error = 'libnvidia-ml.so.1: cannot open shared object file: No such file or directory';
    expect(nvmlToProbe({loaded: false, error})).toEqual({state: 'no-driver', reason: error});
  });

  it('calls an installed library whose kernel module is not loaded one without a driver', () => {
    expect(nvmlToProbe({loaded: false, error: 'nvmlInit_v2: Driver Not Loaded', code: 9})).toEqual({
      state: 'no-driver',
      reason: 'nvmlInit_v2: Driver Not Loaded',
    });
  });

  it('calls other failures errors: a driver/library mismatch, a broken library, a lost GPU', () => {
    expect(nvmlToProbe({loaded: false, error: 'nvmlInit_v2: Driver/library version mismatch', code: 18})).toEqual({
      state: 'error',
      reason: 'nvmlInit_v2: Driver/library version mismatch',
    });
    expect(nvmlToProbe({loaded: false, error: 'libnvidia-ml.so.1: wrong ELF class: ELFCLASS32'}).state).toBe('error');
    const raw = structuredClone(fixture('h100-sxm-8'));
    raw.devices[6] = {index: 6, error: 'nvmlDeviceGetHandleByIndex_v2: GPU is lost', nvlinks: []};
    expect(nvmlToProbe(raw)).toEqual({state: 'error', reason: 'GPU 6: nvmlDeviceGetHandleByIndex_v2: GPU is lost'});
  });
});

describe('cudaVersion', () => {
  it("writes NVML's CUDA driver version as major.minor", () => {
    expect([12040, 12020, 12080, 11080, 13000].map(cudaVersion)).toEqual(['12.4', '12.2', '12.8', '11.8', '13.0']);
  });
});
