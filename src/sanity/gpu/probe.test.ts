import {describe, expect, it} from 'vitest';
import {recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import type {CommandResult} from '../check.js';
import {probeGpus} from './probe.js';
import {NO_DRIVER_REASON} from './smi-probe.js';
import type {GpuProbe} from './topology.js';

const viaNvml: GpuProbe = {
  state: 'ok',
  topology: {source: 'nvml', driverVersion: '550.54.15', cudaDriverVersion: '12.4', gpus: [], p2p: []},
};

/** A run that counts the nvidia-smi calls it answers. */
function counted(box: string) {
  const run = recordedRun(box);
  const calls: string[] = [];
  return {
    calls,
    run: async (command: string, args: string[]): Promise<CommandResult> => {
      calls.push([command, ...args].join(' '));
      return run(command, args);
    },
  };
}

const missing = async (command: string): Promise<CommandResult> => ({ok: false, code: null, stdout: '', stderr: `spawn ${command} ENOENT`});

describe('probeGpus', () => {
  it('answers from NVML when it works, without running nvidia-smi', async () => {
    const {run, calls} = counted('l4-1');
    expect(await probeGpus({nvml: () => viaNvml, run, env: {}})).toBe(viaNvml);
    expect(calls).toEqual([]);
  });

  it('falls back to nvidia-smi when NVML cannot be loaded', async () => {
    const {run, calls} = counted('two-socket-4');
    const probe = await probeGpus({nvml: () => ({state: 'no-driver', reason: 'libnvidia-ml.so.1: cannot open shared object file'}), run, env: {}});
    expect(probe.state === 'ok' && probe.topology.source).toBe('nvidia-smi');
    expect(calls).toEqual(['nvidia-smi -q -x', 'nvidia-smi topo -m']);
  });

  it('skips NVML under DYNAMO_NO_NVML=1', async () => {
    let asked = false;
    const probe = await probeGpus({
      nvml: () => {
        asked = true;
        return viaNvml;
      },
      run: recordedRun('h100-sxm-8'),
      env: {DYNAMO_NO_NVML: '1'},
    });
    expect(asked).toBe(false);
    expect(probe.state === 'ok' && [probe.topology.source, probe.topology.gpus.length]).toEqual(['nvidia-smi', 8]);
  });

  it('is no-driver when neither NVML nor nvidia-smi is there', async () => {
    expect(await probeGpus({nvml: () => ({state: 'no-driver', reason: 'no addon'}), run: missing, env: {}})).toEqual({
      state: 'no-driver',
      reason: NO_DRIVER_REASON,
    });
  });

  it('reports NVML’s failure when nvidia-smi cannot do better', async () => {
    const nvml = (): GpuProbe => ({state: 'error', reason: 'Driver/library version mismatch'});
    expect(await probeGpus({nvml, run: missing, env: {}})).toEqual({state: 'error', reason: 'Driver/library version mismatch'});
    const failing = async (): Promise<CommandResult> => ({ok: true, code: 18, stdout: 'Failed to initialize NVML: Driver/library version mismatch\n', stderr: ''});
    expect(await probeGpus({nvml, run: failing, env: {}})).toEqual({
      state: 'error',
      reason: 'Driver/library version mismatch; nvidia-smi -q -x failed (exit 18): Failed to initialize NVML: Driver/library version mismatch',
    });
  });

  it('takes a throwing NVML as an error and still tries nvidia-smi', async () => {
    const probe = await probeGpus({
      nvml: () => {
        throw new Error('addon crashed');
      },
      run: recordedRun('l4-1'),
      env: {},
    });
    expect(probe.state).toBe('ok');
  });
});
