import {describe, expect, it} from 'vitest';
import {boxFile} from '../../../test/fixtures/gpu/boxes.js';
import {p2pLinkOf, parseTopoMatrix, TopoError} from './topo-matrix.js';
import type {P2PLink} from './topology.js';

const parse = (box: string) => parseTopoMatrix(boxFile(box, 'topo-m.txt'));

const X: P2PLink = {kind: 'self'};
const nv = (n: number): P2PLink => ({kind: 'nvlink', nvlinks: n});
const PIX: P2PLink = {kind: 'pcie-switch'};
const PHB: P2PLink = {kind: 'host-bridge'};
const SYS: P2PLink = {kind: 'cross-socket'};

describe('parseTopoMatrix on the recorded boxes', () => {
  it('reads 8 × NV18 and drops the eight NIC columns and rows', () => {
    const m = parse('h100-sxm-8');
    expect(m.p2p).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [0, 1, 2, 3, 4, 5, 6, 7].map((j) => (i === j ? X : nv(18)))));
    expect(m.numaNodes).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(m.cpuAffinity).toEqual([...Array(4).fill('0-55,112-167'), ...Array(4).fill('56-111,168-223')]);
  });

  it('reads NVLink pairs with PHB between them', () => {
    const m = parse('a100-pcie-4-nvlink-pairs');
    expect(m.p2p).toEqual([
      [X, nv(12), PHB, PHB],
      [nv(12), X, PHB, PHB],
      [PHB, PHB, X, nv(12)],
      [PHB, PHB, nv(12), X],
    ]);
    expect(m.numaNodes).toEqual([0, 0, 0, 0]);
  });

  it('reads one GPU', () => {
    expect(parse('l4-1')).toEqual({p2p: [[X]], numaNodes: [0], cpuAffinity: ['0-7']});
  });

  it('reads two sockets: PIX within, SYS across', () => {
    const m = parse('two-socket-4');
    expect(m.p2p).toEqual([
      [X, PIX, SYS, SYS],
      [PIX, X, SYS, SYS],
      [SYS, SYS, X, PIX],
      [SYS, SYS, PIX, X],
    ]);
    expect(m.numaNodes).toEqual([0, 0, 1, 1]);
    expect(m.cpuAffinity).toEqual(['0-23,48-71', '0-23,48-71', '24-47,72-95', '24-47,72-95']);
  });

  it('reads an R470 matrix: ANSI underlines, NICs named mlx5_N, no GPU NUMA ID column', () => {
    expect(boxFile('old-driver', 'topo-m.txt')).toContain('\x1b[4m');
    expect(parse('old-driver')).toEqual({p2p: [[X]], numaNodes: [3], cpuAffinity: ['48-63,176-191']});
  });

  it('reads the same matrix when the tabs became spaces', () => {
    for (const box of ['h100-sxm-8', 'a100-pcie-4-nvlink-pairs', 'two-socket-4']) {
      const spaced = boxFile(box, 'topo-m.txt').replace(/\t/g, '    ');
      expect(parseTopoMatrix(spaced)).toEqual(parse(box));
    }
  });
});

describe('parseTopoMatrix edge cases', () => {
  it('takes an empty CPU affinity cell (a GPU without CPU locality) as unknown, not as a shift', () => {
    const text = '\tGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\nGPU0\t X \tNV18\t44-51,148-155\t0\t\tN/A\nGPU1\tNV18\t X \t\t1\t\tN/A\n';
    expect(parseTopoMatrix(text)).toEqual({p2p: [[X, nv(18)], [nv(18), X]], numaNodes: [0, 1], cpuAffinity: ['44-51,148-155', undefined]});
  });

  it('takes "N/A" NUMA affinity (one-node machines) as unknown', () => {
    const text = '\tGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\nGPU0\t X \tPHB\t0-11\tN/A\nGPU1\tPHB\t X \t0-11\tN/A\n';
    expect(parseTopoMatrix(text).numaNodes).toEqual([undefined, undefined]);
  });

  it('maps every legend entry, including NODE, PXB and the old SOC', () => {
    expect(['X', 'NV4', 'PIX', 'PXB', 'PHB', 'NODE', 'SYS', 'SOC'].map(p2pLinkOf)).toEqual([X, nv(4), PIX, PIX, PHB, PHB, SYS, SYS]);
    expect(p2pLinkOf('CPU')).toBeUndefined();
  });

  it.each([
    ['empty output', '', 'no GPU0 column'],
    ['a header without rows', '\tGPU0\tGPU1\tCPU Affinity\n\nLegend:\n', 'the matrix has 2 GPU columns but 0 GPU rows'],
    ['a cell outside the legend', '\tGPU0\tGPU1\nGPU0\t X \t???\nGPU1\tPHB\t X \n', 'GPU0 → GPU1: "???" is not in the legend'],
    ['rows out of order', '\tGPU0\tGPU1\nGPU1\tPHB\t X \nGPU0\t X \tPHB\n', 'row GPU1 where GPU0 was expected'],
    ['an error message', 'Failed to initialize NVML: Driver/library version mismatch\n', 'no GPU0 column'],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseTopoMatrix(text)).toThrow(TopoError);
    expect(() => parseTopoMatrix(text)).toThrow(message);
  });
});
