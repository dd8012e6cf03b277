import {describe, expect, it} from 'vitest';
import {nvlinkBox, recordedRun} from '../../test/fixtures/gpu/boxes.js';
import {resolveModel} from '../config/models.js';
import {type DynamoConfigInput, configSchema} from '../config/schema.js';
import {probeNvidiaSmi} from '../sanity/gpu/smi-probe.js';
import type {GpuProbe, GpuTopology} from '../sanity/gpu/topology.js';
import {type EngineWorkerSlot, enginePlanner, planEngines} from './plan.js';

const RESTART = {maxRestarts: 3, backoffMs: 100, backoffMaxMs: 1000, stableMs: 30_000};
const config = (over: Partial<DynamoConfigInput> = {}) => configSchema.parse({model: 'llama-3.1-8b', engine: 'vllm', ...over});
const here = {hostName: 'local', address: '127.0.0.1', runDir: '/runs/demo'};
const agg = (n: number): EngineWorkerSlot[] => Array.from({length: n}, (_, i) => ({id: `agg-${i}`, role: 'agg', ...here}));
const pd: EngineWorkerSlot[] = [
  {id: 'prefill-0', role: 'prefill', ...here},
  {id: 'decode-0', role: 'decode', ...here},
];
const box = async (name: string): Promise<GpuTopology> => {
  const probe = await probeNvidiaSmi(recordedRun(name));
  if (probe.state !== 'ok') throw new Error(probe.reason);
  return probe.topology;
};
const ok = (topology: GpuTopology): GpuProbe => ({state: 'ok', topology});
const plan = (c: ReturnType<typeof config>, gpus: GpuTopology | undefined, slots: EngineWorkerSlot[]) => planEngines(c, resolveModel(c.model), new Map(gpus ? [['local', ok(gpus)]] : []), slots, {restart: RESTART});

describe('planning real engines', () => {
  it('gives each worker its GPUs, its own ports, and the launch line, on the recorded 8×H100 box', async () => {
    const c = config({workers: {agg: {count: 3, tensorParallelSize: 2}}});
    const p = plan(c, await box('h100-sxm-8'), agg(3));
    expect([...p.keys()]).toEqual(['agg-0', 'agg-1', 'agg-2']);
    const runs = [...p.values()];
    expect(runs.map((r) => r.run.launch.env.CUDA_VISIBLE_DEVICES)).toEqual(['0,1', '2,3', '4,5']);
    expect(runs.map((r) => r.ports)).toEqual([
      {engine: 8300, kvEvents0: 20080, kvReplay0: 20081},
      {engine: 8301, kvEvents0: 20082, kvReplay0: 20083},
      {engine: 8302, kvEvents0: 20084, kvReplay0: 20085},
    ]);
    const first = runs[0]!.run;
    expect(first.launch.command).toBe('vllm');
    expect(first.launch.args.slice(0, 2)).toEqual(['serve', 'meta-llama/Llama-3.1-8B-Instruct']);
    expect(first.launch.args).toEqual(expect.arrayContaining(['--served-model-name', 'llama-3.1-8b', '--tensor-parallel-size', '2', '--port', '8300']));
    expect(first).toMatchObject({loadTimeoutMs: 1_800_000, restart: RESTART, logFile: '/runs/demo/logs/agg-0.engine.log'});
  });

  it('picks the fewest GPUs that hold the weights when TP is unset, and offsets data-parallel ports', () => {
    const c = config({model: 'llama-3.1-70b', workers: {agg: {count: 1, dataParallelSize: 2}}, engineOptions: {kvEventsBasePort: 30000}});
    const [run] = [...plan(c, nvlinkBox(8), agg(1)).values()];
    // 141 GB of bf16 weights over 80 GB GPUs at 60%: 4 GPUs, × 2 data-parallel ranks.
    expect(run!.run.launch.env.CUDA_VISIBLE_DEVICES).toBe('0,1,2,3,4,5,6,7');
    expect(run!.ports).toEqual({engine: 8300, kvEvents0: 30000, kvReplay0: 30002, kvEvents1: 30001, kvReplay1: 30003});
  });

  it('disaggregated: side-channel ports for prefill and decode, KV events from the prefill side only', () => {
    const p = plan(config({disagg: true}), nvlinkBox(2), pd);
    expect(p.get('prefill-0')!.ports).toEqual({engine: 8300, kvEvents0: 20080, kvReplay0: 20081, transfer0: 5600});
    expect(p.get('decode-0')!.ports).toEqual({engine: 8301, kvEvents0: 20082, kvReplay0: 20083, transfer0: 5601});
    expect(p.get('prefill-0')!.run.launch.kvEvents.endpoints).toEqual(['tcp://*:20080']);
    expect(p.get('decode-0')!.run.launch.kvEvents.endpoints).toEqual([]);
    expect(p.get('decode-0')!.run.launch.env.VLLM_NIXL_SIDE_CHANNEL_PORT).toBe('5601');
  });

  it('says what is short: no GPUs (and why), too few GPUs, a TP whose GPUs cannot hold the weights', async () => {
    expect(() => plan(config(), undefined, agg(1))).toThrow(/engine vllm needs NVIDIA GPUs, and none were found on this machine/);
    const planner = await enginePlanner(config(), resolveModel('llama-3.1-8b'), async () => ({state: 'no-driver', reason: 'nvidia-smi not found and NVML not loadable'}));
    expect(() => planner(agg(1), RESTART)).toThrow('none were found on this machine (nvidia-smi not found and NVML not loadable)');
    expect(() => plan(config({workers: {agg: {count: 3, tensorParallelSize: 4}}}), nvlinkBox(8), agg(3))).toThrow(
      'the plan needs 12 GPUs on this machine (agg-0 4×1, agg-1 4×1, agg-2 4×1; tensor × data parallel) and this machine has 8 (80 GiB each)',
    );
    expect(() => plan(config({model: 'llama-3.1-70b', workers: {agg: {count: 1, tensorParallelSize: 1}}}), nvlinkBox(8), agg(1))).toThrow(/llama-3.1-70b at tensor parallel 1 needs 132 GiB of weights per GPU, more than the 72 GiB engineOptions.gpuMemoryFraction leaves of each 80 GiB GPU/);
  });

  it('refuses engine arguments in the engine\'s words unless told not to check them', () => {
    const bad = config({workers: {agg: {count: 1, engineArgs: ['--enforce-eager', '--max-num-seq', '64', '--enable-magic']}}});
    expect(() => plan(bad, nvlinkBox(8), agg(1))).toThrow('workers.agg.engineArgs: vllm would refuse them: vllm serve: error: unrecognized arguments: --enable-magic');
    const unchecked = config({workers: {agg: {count: 1, engineArgs: ['--enable-magic']}}, engineOptions: {checkEngineArgs: false}});
    expect([...plan(unchecked, nvlinkBox(8), agg(1)).values()][0]!.run.launch.args.at(-1)).toBe('--enable-magic');
  });

  describe('on SSH hosts', () => {
    const remote = (id: string, role: EngineWorkerSlot['role'], hostName: string, address: string): EngineWorkerSlot => ({id, role, hostName, address, runDir: '.dynamo/runs/demo'});
    const c = config({disagg: true, hosts: {gpu1: {address: '10.0.0.1'}, gpu2: {address: '10.0.0.2'}}, workers: {prefill: {count: 2, hosts: ['gpu1', 'gpu2']}, decode: {count: 1, hosts: ['gpu2']}}});
    const slots = [remote('prefill-0', 'prefill', 'gpu1', '10.0.0.1'), remote('prefill-1', 'prefill', 'gpu2', '10.0.0.2'), remote('decode-0', 'decode', 'gpu2', '10.0.0.2')];

    it('assigns each host\'s own GPUs, counts ports across hosts, advertises the host\'s address and keeps files in its run directory', async () => {
      const gpus = new Map([
        ['gpu1', ok(await box('h100-sxm-8'))],
        ['gpu2', ok(nvlinkBox(2))],
      ]);
      const p = planEngines(c, resolveModel(c.model), gpus, slots, {restart: RESTART});
      expect(['prefill-0', 'prefill-1', 'decode-0'].map((id) => p.get(id)!.run.launch.env.CUDA_VISIBLE_DEVICES)).toEqual(['0', '0', '1']);
      expect(['prefill-0', 'prefill-1', 'decode-0'].map((id) => p.get(id)!.ports.engine)).toEqual([8300, 8301, 8302]);
      expect(p.get('prefill-1')!.run.launch.env.VLLM_NIXL_SIDE_CHANNEL_HOST).toBe('10.0.0.2');
      expect(p.get('decode-0')!.run.logFile).toBe('.dynamo/runs/demo/logs/decode-0.engine.log');
    });

    it('probes only the hosts workers land on, and names the host that is short', async () => {
      const asked: string[] = [];
      const planner = await enginePlanner({...c, hosts: {...c.hosts, idle: {address: '10.0.0.9', port: 22}}}, resolveModel(c.model), async (h) => {
        asked.push(h);
        return h === 'gpu1' ? ok(nvlinkBox(1)) : {state: 'error', reason: 'nvidia-smi -q -x failed (exit 9): NVIDIA-SMI has failed'};
      });
      expect(asked.sort()).toEqual(['gpu1', 'gpu2']);
      expect(() => planner(slots, RESTART)).toThrow('engine vllm needs NVIDIA GPUs, and none were found on host gpu2 (nvidia-smi -q -x failed (exit 9): NVIDIA-SMI has failed)');
      const twoOnOne = [remote('prefill-0', 'prefill', 'gpu1', '10.0.0.1'), remote('decode-0', 'decode', 'gpu1', '10.0.0.1')];
      expect(() => planEngines(c, resolveModel(c.model), new Map([['gpu1', ok(nvlinkBox(1))]]), twoOnOne, {restart: RESTART})).toThrow('the plan needs 2 GPUs on host gpu1 (prefill-0 1×1, decode-0 1×1; tensor × data parallel) and it has 1 (80 GiB each)');
    });
  });
});
