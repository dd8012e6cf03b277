// The nvidia-smi fallback through real processes: the fake nvidia-smi (a sh script) run by the
// sanity checks' own runCommand, so what execa says of a missing program and how a failing
// nvidia-smi exits are the real thing, not a recording.
import {join} from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {FAKE_BIN, GPU_BOXES, recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import {runCommand} from '../facts/run.js';
import {probeGpus} from './probe.js';
import {NO_DRIVER_REASON, probeNvidiaSmi} from './smi-probe.js';

const FAKE = join(FAKE_BIN, 'nvidia-smi');
/** runCommand, with "nvidia-smi" meaning the fake (PATH lookup is the one thing not exercised). */
const viaFake = (command: string, args: string[], timeoutMs?: number) => runCommand(command === 'nvidia-smi' ? FAKE : command, args, timeoutMs);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('probeNvidiaSmi through the fake nvidia-smi', () => {
  it.each(GPU_BOXES)('%s reads the same as its recording', async (box) => {
    vi.stubEnv('FAKE_NVIDIA_SMI_BOX', box);
    expect(await probeNvidiaSmi(viaFake, 5000)).toEqual(await probeNvidiaSmi(recordedRun(box)));
  });

  it('is no-driver when the program does not exist', async () => {
    const missing = (_: string, args: string[]) => runCommand('/nonexistent/nvidia-smi', args);
    expect(await probeNvidiaSmi(missing)).toEqual({state: 'no-driver', reason: NO_DRIVER_REASON});
  });

  it('is an error with nvidia-smi’s own words when the driver is not loaded', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_BOX', '');
    expect(await probeNvidiaSmi(viaFake, 5000)).toEqual({
      state: 'error',
      reason:
        "nvidia-smi -q -x failed (exit 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    });
  });

  it('is an error when there are no GPUs', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_BOX', 'no-such-box');
    expect(await probeNvidiaSmi(viaFake, 5000)).toEqual({state: 'error', reason: 'nvidia-smi -q -x failed (exit 6): No devices were found'});
  });

  it('reads the fake under DYNAMO_NO_NVML=1 even where NVML would answer', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_BOX', 'two-socket-4');
    const probe = await probeGpus({run: viaFake, env: {DYNAMO_NO_NVML: '1'}});
    expect(probe.state === 'ok' && [probe.topology.source, probe.topology.gpus.map((g) => g.name)]).toEqual([
      'nvidia-smi',
      ['NVIDIA L40S', 'NVIDIA L40S', 'NVIDIA L40S', 'NVIDIA L40S'],
    ]);
  });
});
