import {describe, expect, it} from 'vitest';
import {boxFile, GPU_BOXES, recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import type {CommandResult} from '../check.js';
import {NO_DRIVER_REASON, probeNvidiaSmi} from './smi-probe.js';
import type {GpuProbe, GpuTopology} from './topology.js';

async function topologyOf(box: string): Promise<GpuTopology> {
  const probe = await probeNvidiaSmi(recordedRun(box));
  if (probe.state !== 'ok') throw new Error(`${box}: ${probe.state}: ${probe.reason}`);
  return probe.topology;
}

describe('probeNvidiaSmi on the recorded boxes', () => {
  it.each([
    ['h100-sxm-8', '550.54.15', '12.4', 8, [0, 0, 0, 0, 1, 1, 1, 1]],
    ['a100-pcie-4-nvlink-pairs', '550.90.07', '12.4', 4, [0, 0, 0, 0]],
    ['l4-1', '560.35.03', '12.6', 1, [0]],
    ['two-socket-4', '550.54.15', '12.4', 4, [0, 0, 1, 1]],
    ['old-driver', '470.199.02', '11.4', 1, [3]],
  ])('%s: driver %s, CUDA %s, %i GPUs on NUMA nodes %j', async (box, driver, cuda, n, numa) => {
    const t = await topologyOf(box);
    expect(t.source).toBe('nvidia-smi');
    expect([t.driverVersion, t.cudaDriverVersion, t.gpus.length]).toEqual([driver, cuda, n]);
    expect(t.gpus.map((g) => g.numaNode)).toEqual(numa);
    expect(t.p2p.length).toBe(n);
    expect(t.p2p.every((row, i) => row.length === n && row[i]!.kind === 'self')).toBe(true);
  });

  it('gives the whole topology of a one-GPU box', async () => {
    expect(await topologyOf('l4-1')).toEqual<GpuTopology>({
      source: 'nvidia-smi',
      driverVersion: '560.35.03',
      cudaDriverVersion: '12.6',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA L4',
          uuid: 'GPU-778fcd3b-4b35-afcf-274a-25891c9dbaf4',
          pciBusId: '0000:00:03.0',
          memory: {totalMiB: 23034, usedMiB: 1, freeMiB: 22599},
          mig: 'unsupported',
          ecc: {mode: 'enabled', volatileUncorrected: 0, aggregateUncorrected: 0},
          persistenceMode: true,
          power: {drawW: 16.24, limitW: 72},
          clocks: {smMHz: 210, memMHz: 405, maxSmMHz: 2040},
          numaNode: 0,
          nvlinks: [],
        },
      ],
      p2p: [[{kind: 'self'}]],
    });
  });

  it('covers every recorded box', () => {
    expect(GPU_BOXES.length).toBe(5);
  });
});

const answer = (r: Partial<CommandResult>) => async (): Promise<CommandResult> => ({ok: true, code: 0, stdout: '', stderr: '', ...r});

describe('probeNvidiaSmi when nvidia-smi is missing, fails or prints nonsense', () => {
  it('is no-driver when nvidia-smi is not installed', async () => {
    const run = answer({ok: false, code: null, stderr: 'Command failed with ENOENT: nvidia-smi -q -x\nspawn nvidia-smi ENOENT'});
    expect(await probeNvidiaSmi(run)).toEqual<GpuProbe>({state: 'no-driver', reason: NO_DRIVER_REASON});
  });

  it('is an error with the first line nvidia-smi printed when it fails (it prints to stdout)', async () => {
    const run = answer({
      code: 9,
      stdout:
        "\nNVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
    });
    expect(await probeNvidiaSmi(run)).toEqual<GpuProbe>({
      state: 'error',
      reason:
        "nvidia-smi -q -x failed (exit 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    });
  });

  it('prefers stderr when there is one', async () => {
    const run = answer({code: 18, stdout: 'ignored\n', stderr: 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.90\n'});
    expect(await probeNvidiaSmi(run)).toEqual({
      state: 'error',
      reason: 'nvidia-smi -q -x failed (exit 18): Failed to initialize NVML: Driver/library version mismatch',
    });
  });

  it('is an error when nvidia-smi hangs past its timeout', async () => {
    const run = answer({ok: false, code: null, stderr: 'Command timed out after 1500 milliseconds: nvidia-smi -q -x'});
    expect(await probeNvidiaSmi(run)).toEqual({
      state: 'error',
      reason: 'nvidia-smi -q -x failed: Command timed out after 1500 milliseconds: nvidia-smi -q -x',
    });
  });

  it('is an error, not a throw, on truncated XML', async () => {
    const truncated = boxFile('h100-sxm-8', 'nvidia-smi-q.xml').slice(0, 30_000);
    const probe = await probeNvidiaSmi(recordedRun('h100-sxm-8', {'-q -x': truncated}));
    expect(probe.state).toBe('error');
    expect(probe.state === 'error' && probe.reason).toMatch(/^could not read nvidia-smi -q -x: the document ends inside </);
  });

  it('is an error, not a throw, on an empty topology matrix', async () => {
    expect(await probeNvidiaSmi(recordedRun('a100-pcie-4-nvlink-pairs', {'topo -m': ''}))).toEqual({
      state: 'error',
      reason: 'could not read nvidia-smi topo -m: no GPU0 column in the topology matrix',
    });
  });

  it('is an error when topo -m fails', async () => {
    const run = async (command: string, args: string[]): Promise<CommandResult> =>
      args[0] === 'topo' ? {ok: true, code: 3, stdout: 'Topology not supported on this system\n', stderr: ''} : recordedRun('l4-1')(command, args);
    expect(await probeNvidiaSmi(run)).toEqual({state: 'error', reason: 'nvidia-smi topo -m failed (exit 3): Topology not supported on this system'});
  });

  it('is an error when the two commands disagree on the GPU count', async () => {
    expect(await probeNvidiaSmi(recordedRun('two-socket-4', {'topo -m': boxFile('l4-1', 'topo-m.txt')}))).toEqual({
      state: 'error',
      reason: 'nvidia-smi -q -x lists 4 GPUs but topo -m lists 1',
    });
  });

  it('runs both commands at once, each within the timeout', async () => {
    const calls: [string, string[], number | undefined][] = [];
    const run = recordedRun('l4-1');
    await probeNvidiaSmi(async (c, a, t) => {
      calls.push([c, a, t]);
      return run(c, a);
    }, 900);
    expect(calls).toEqual([
      ['nvidia-smi', ['-q', '-x'], 900],
      ['nvidia-smi', ['topo', '-m'], 900],
    ]);
  });
});
