import {describe, expect, it} from 'vitest';
import {GPU_BOXES, recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import {bestTpGroups, nvlinkGroups, socketGroups} from './groups.js';
import {probeNvidiaSmi} from './smi-probe.js';
import {p2pLinkOf} from './topo-matrix.js';
import type {GpuTopology} from './topology.js';

async function box(name: string): Promise<GpuTopology> {
  const probe = await probeNvidiaSmi(recordedRun(name));
  if (probe.state !== 'ok') throw new Error(`${name}: ${probe.reason}`);
  return probe.topology;
}

/** A topology from topo -m cells, for shapes no recorded box has. */
function fromCells(rows: string[][]): GpuTopology {
  return {
    source: 'nvidia-smi',
    driverVersion: '550.54.15',
    cudaDriverVersion: '12.4',
    gpus: rows.map((_, index) => ({index, name: 'NVIDIA Tesla V100-SXM2-32GB', uuid: '', pciBusId: '', memory: {totalMiB: 32768, usedMiB: 0, freeMiB: 32768}, nvlinks: []})),
    p2p: rows.map((row) => row.map((c) => p2pLinkOf(c)!)),
  };
}

// DGX-1 (V100): two fully connected quads, each GPU also wired to its twin in the other quad.
const DGX1 = fromCells([
  ['X', 'NV1', 'NV1', 'NV2', 'NV2', 'SYS', 'SYS', 'SYS'],
  ['NV1', 'X', 'NV2', 'NV1', 'SYS', 'NV2', 'SYS', 'SYS'],
  ['NV1', 'NV2', 'X', 'NV2', 'SYS', 'SYS', 'NV1', 'SYS'],
  ['NV2', 'NV1', 'NV2', 'X', 'SYS', 'SYS', 'SYS', 'NV1'],
  ['NV2', 'SYS', 'SYS', 'SYS', 'X', 'NV1', 'NV1', 'NV2'],
  ['SYS', 'NV2', 'SYS', 'SYS', 'NV1', 'X', 'NV2', 'NV1'],
  ['SYS', 'SYS', 'NV1', 'SYS', 'NV1', 'NV2', 'X', 'NV2'],
  ['SYS', 'SYS', 'SYS', 'NV1', 'NV2', 'NV1', 'NV2', 'X'],
]);

describe('nvlinkGroups and socketGroups on the recorded boxes', () => {
  it.each([
    ['h100-sxm-8', [[0, 1, 2, 3, 4, 5, 6, 7]], [[0, 1, 2, 3, 4, 5, 6, 7]]],
    ['a100-pcie-4-nvlink-pairs', [[0, 1], [2, 3]], [[0, 1, 2, 3]]],
    ['l4-1', [[0]], [[0]]],
    ['two-socket-4', [[0], [1], [2], [3]], [[0, 1], [2, 3]]],
    ['old-driver', [[0]], [[0]]],
  ])('%s: NVLink %j, sockets %j', async (name, nvlink, sockets) => {
    const t = await box(name);
    expect(nvlinkGroups(t)).toEqual(nvlink);
    expect(socketGroups(t)).toEqual(sockets);
  });

  it('covers every recorded box', () => {
    expect(GPU_BOXES).toHaveLength(5);
  });

  it('splits a hybrid cube mesh into its two quads, not into the cross links', () => {
    expect(nvlinkGroups(DGX1)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });
});

describe('bestTpGroups', () => {
  it('keeps every TP group on NVLink on an NVSwitch box', async () => {
    const t = await box('h100-sxm-8');
    expect(bestTpGroups(t, 8, 1)).toEqual([{gpus: [0, 1, 2, 3, 4, 5, 6, 7], link: 'nvlink'}]);
    expect(bestTpGroups(t, 2, 4)).toEqual([
      {gpus: [0, 1], link: 'nvlink'},
      {gpus: [2, 3], link: 'nvlink'},
      {gpus: [4, 5], link: 'nvlink'},
      {gpus: [6, 7], link: 'nvlink'},
    ]);
    expect(bestTpGroups(t, 3, 2)).toEqual([
      {gpus: [0, 1, 2], link: 'nvlink'},
      {gpus: [3, 4, 5], link: 'nvlink'},
    ]);
  });

  it('puts TP 2 on the bridged pairs and TP 4 across the host bridge', async () => {
    const t = await box('a100-pcie-4-nvlink-pairs');
    expect(bestTpGroups(t, 2, 2)).toEqual([
      {gpus: [0, 1], link: 'nvlink'},
      {gpus: [2, 3], link: 'nvlink'},
    ]);
    expect(bestTpGroups(t, 4, 1)).toEqual([{gpus: [0, 1, 2, 3], link: 'host-bridge'}]);
    expect(bestTpGroups(t, 1, 4)).toEqual([0, 1, 2, 3].map((g) => ({gpus: [g], link: 'self'})));
  });

  it('keeps TP 2 under one PCIe switch per socket, and says when TP 4 must cross sockets', async () => {
    const t = await box('two-socket-4');
    expect(bestTpGroups(t, 2, 2)).toEqual([
      {gpus: [0, 1], link: 'pcie-switch'},
      {gpus: [2, 3], link: 'pcie-switch'},
    ]);
    expect(bestTpGroups(t, 2, 1)).toEqual([{gpus: [0, 1], link: 'pcie-switch'}]);
    expect(bestTpGroups(t, 4, 1)).toEqual([{gpus: [0, 1, 2, 3], link: 'cross-socket'}]);
  });

  it('finds NVLink pairs on a hybrid cube mesh even for TP 2 × 4, and quads for TP 4', () => {
    expect(bestTpGroups(DGX1, 4, 2)).toEqual([
      {gpus: [0, 1, 2, 3], link: 'nvlink'},
      {gpus: [4, 5, 6, 7], link: 'nvlink'},
    ]);
    expect(bestTpGroups(DGX1, 2, 4)!.map((g) => g.link)).toEqual(['nvlink', 'nvlink', 'nvlink', 'nvlink']);
  });

  it('prefers GPUs behind one switch when NVLink runs out', () => {
    // 0-1 bridged; 2 shares a switch with 3; 0/1 reach 2/3 through the host bridge.
    const t = fromCells([
      ['X', 'NV4', 'PHB', 'PHB'],
      ['NV4', 'X', 'PHB', 'PHB'],
      ['PHB', 'PHB', 'X', 'PIX'],
      ['PHB', 'PHB', 'PIX', 'X'],
    ]);
    expect(bestTpGroups(t, 2, 2)).toEqual([
      {gpus: [0, 1], link: 'nvlink'},
      {gpus: [2, 3], link: 'pcie-switch'},
    ]);
  });

  it('is undefined when the box has too few GPUs or the sizes make no sense', async () => {
    const t = await box('l4-1');
    expect(bestTpGroups(t, 2, 1)).toBeUndefined();
    expect(bestTpGroups(t, 1, 2)).toBeUndefined();
    expect(bestTpGroups(t, 0, 1)).toBeUndefined();
    expect(bestTpGroups(t, 1.5, 1)).toBeUndefined();
    expect(bestTpGroups(t, 1, 1)).toEqual([{gpus: [0], link: 'self'}]);
  });
});
