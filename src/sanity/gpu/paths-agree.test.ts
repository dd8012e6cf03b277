/**
 * The two ways in (NVML through the addon; nvidia-smi -q -x + topo -m when NVML cannot load) must
 * lead to the same verdicts: for every box recorded both ways (test/fixtures/gpu/<box>/ and
 * test/fixtures/gpu/nvml/<box>.json describe one machine), the same topology line and the same status
 * of every GPU check, for the mocker and for a real engine.
 */
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {GPU_BOXES, GPU_FIXTURES, recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import type {RawGpuProbe} from '../../native/index.cjs';
import type {SanityContext} from '../check.js';
import {gpuChecks} from '../checks/gpu.js';
import {nvmlToProbe} from './nvml.js';
import {probeNvidiaSmi} from './smi-probe.js';
import type {GpuProbe, GpuTopology} from './topology.js';

const nvmlFile = (box: string) => join(GPU_FIXTURES, 'nvml', `${box}.json`);
const BOTH_WAYS = GPU_BOXES.filter((box) => existsSync(nvmlFile(box)));

function topology(probe: GpuProbe): GpuTopology {
  if (probe.state !== 'ok') throw new Error(`expected a topology, got ${probe.state}: ${probe.reason}`);
  return probe.topology;
}

/** Every fast GPU check's status, and the topology line, as `engine` would be judged on `probe`. */
async function verdicts(probe: GpuProbe, engine: string) {
  const ctx: SanityContext = {
    host: 'local',
    thorough: false,
    engine,
    params: {},
    facts: {
      gpu: async () => probe,
      system: () => Promise.reject(new Error('no system facts')),
      listeners: () => Promise.reject(new Error('no ports')),
      run: () => Promise.reject(new Error('no commands')),
    },
  };
  const out = await Promise.all(gpuChecks.filter((c) => !c.thorough).map(async (c) => [c.id, await c.run(ctx)] as const));
  return {statuses: Object.fromEntries(out.map(([id, o]) => [id, o.status])), topology: out.find(([id]) => id === 'gpu.topology')![1].finding};
}

describe('NVML and nvidia-smi describe each recorded box alike', () => {
  it('every recorded box is recorded both ways', () => {
    expect(BOTH_WAYS).toEqual([...GPU_BOXES]);
  });

  describe.each(BOTH_WAYS)('%s', (box) => {
    const viaNvml = () => nvmlToProbe((JSON.parse(readFileSync(nvmlFile(box), 'utf8')) as RawGpuProbe).nvml);
    const viaSmi = () => probeNvidiaSmi(recordedRun(box));

    it('as the same machine: driver, CUDA, GPUs and how they connect', async () => {
      const [a, b] = [topology(viaNvml()), topology(await viaSmi())];
      expect([a.source, b.source]).toEqual(['nvml', 'nvidia-smi']);
      const same = (t: GpuTopology) => ({
        driver: t.driverVersion,
        cuda: t.cudaDriverVersion,
        gpus: t.gpus.map((g) => ({index: g.index, name: g.name, uuid: g.uuid, bus: g.pciBusId, memory: g.memory, mig: g.mig, ecc: g.ecc, numa: g.numaNode})),
        p2p: t.p2p,
      });
      expect(same(a)).toEqual(same(b));
    });

    it.each(['mocker', 'vllm', 'trtllm'])('with the same topology line and GPU check statuses for --engine %s', async (engine) => {
      const [a, b] = [await verdicts(viaNvml(), engine), await verdicts(await viaSmi(), engine)];
      expect(a).toEqual(b);
      expect(a.topology).not.toBe('');
    });
  });
});
