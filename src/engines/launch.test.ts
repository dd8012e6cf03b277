import {parse} from 'yaml';
import {describe, expect, it} from 'vitest';
import {recordedRun} from '../../test/fixtures/gpu/boxes.js';
import {probeNvidiaSmi} from '../sanity/gpu/smi-probe.js';
import {assignGpus} from './gpu-assign.js';
import {type EngineWorkerSpec, engineLaunch, kvEventEndpoints} from './launch.js';

const spec = (over: Partial<EngineWorkerSpec> = {}): EngineWorkerSpec => ({
  engine: 'vllm',
  role: 'agg',
  model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
  servedModelName: 'deepseek-r1',
  host: '127.0.0.1',
  port: 8200,
  advertiseHost: '10.0.0.5',
  gpus: [2, 3],
  tensorParallelSize: 2,
  dataParallelSize: 1,
  expertParallel: false,
  blockSize: 16,
  maxModelLen: 16384,
  gpuMemoryFraction: 0.9,
  prefixCaching: true,
  kvEventsPort: 20080,
  transferPort: 5600,
  configDir: '/run/dynamo/prefill-0',
  extraArgs: [],
  ...over,
});

describe('vllm serve', () => {
  it('aggregated: the model, parallelism, cache, hashing and KV events, on its GPUs with a fixed hash seed', () => {
    const l = engineLaunch(spec());
    expect([l.command, ...l.args]).toEqual([
      'vllm', 'serve', 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
      '--served-model-name', 'deepseek-r1', '--host', '127.0.0.1', '--port', '8200',
      '--tensor-parallel-size', '2', '--data-parallel-size', '1', '--block-size', '16', '--max-model-len', '16384',
      '--gpu-memory-utilization', '0.90', '--enable-prefix-caching', '--prefix-caching-hash-algo', 'sha256_cbor',
      '--kv-events-config', '{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:20080","replay_endpoint":"tcp://*:20081","topic":""}',
    ]);
    expect(l.env).toEqual({CUDA_VISIBLE_DEVICES: '2,3', PYTHONHASHSEED: '0'});
    expect(l).toMatchObject({healthPath: '/health', metricsPath: '/metrics', files: [], kvEvents: {endpoints: ['tcp://*:20080'], replayEndpoints: ['tcp://*:20081']}});
  });

  it('prefill and decode: NixlConnector on both, a side channel per worker, events only from prefill, decode recomputes a failed pull', () => {
    const p = engineLaunch(spec({role: 'prefill'}));
    const d = engineLaunch(spec({role: 'decode', transferPort: 5601}));
    expect(p.args.slice(-2)).toEqual(['--kv-transfer-config', '{"kv_connector":"NixlConnector","kv_role":"kv_both"}']);
    expect(d.args.slice(-2)).toEqual(['--kv-transfer-config', '{"kv_connector":"NixlConnector","kv_role":"kv_both","kv_load_failure_policy":"recompute"}']);
    expect(p.env).toMatchObject({VLLM_NIXL_SIDE_CHANNEL_PORT: '5600', VLLM_NIXL_SIDE_CHANNEL_HOST: '10.0.0.5'});
    expect(d.env.VLLM_NIXL_SIDE_CHANNEL_PORT).toBe('5601');
    expect(p.args).toContain('--kv-events-config');
    expect(d.args).not.toContain('--kv-events-config');
    expect(d.kvEvents.endpoints).toEqual([]);
  });

  it('data and expert parallel: events per rank with replay ports past every PUB port; extra arguments last', () => {
    const l = engineLaunch(spec({gpus: [0, 1, 2, 3], dataParallelSize: 2, expertParallel: true, extraArgs: ['--enforce-eager']}));
    expect(l.args).toContain('--enable-expert-parallel');
    expect(l.kvEvents).toEqual({endpoints: ['tcp://*:20080', 'tcp://*:20081'], replayEndpoints: ['tcp://*:20082', 'tcp://*:20083']});
    expect(l.args.at(-1)).toBe('--enforce-eager');
    expect(l.args).toContain('--enable-prefix-caching');
    expect(engineLaunch(spec({prefixCaching: false})).args).toContain('--no-enable-prefix-caching');
    expect(engineLaunch(spec({prefixCaching: false})).args).not.toContain('--kv-events-config');
  });
});

describe('sglang.launch_server', () => {
  it('aggregated and PD: server arguments, metrics on, zmq events named explicitly, bootstrap port on the prefill side', () => {
    const a = engineLaunch(spec({engine: 'sglang'}));
    expect([a.command, ...a.args]).toEqual([
      'python3', '-m', 'sglang.launch_server', '--model-path', 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
      '--served-model-name', 'deepseek-r1', '--host', '127.0.0.1', '--port', '8200', '--tp-size', '2', '--dp-size', '1',
      '--page-size', '16', '--context-length', '16384', '--mem-fraction-static', '0.90', '--enable-metrics',
      '--kv-events-config', '{"publisher":"zmq","endpoint":"tcp://*:20080","replay_endpoint":"tcp://*:20081","topic":""}',
    ]);
    const p = engineLaunch(spec({engine: 'sglang', role: 'prefill', transferPort: 8998}));
    expect(p.args.slice(-6)).toEqual(['--disaggregation-mode', 'prefill', '--disaggregation-transfer-backend', 'nixl', '--disaggregation-bootstrap-port', '8998']);
    const d = engineLaunch(spec({engine: 'sglang', role: 'decode'}));
    expect(d.args.slice(-4)).toEqual(['--disaggregation-mode', 'decode', '--disaggregation-transfer-backend', 'nixl']);
    expect(d.args).not.toContain('--kv-events-config');
    expect(engineLaunch(spec({engine: 'sglang', prefixCaching: false})).args).toContain('--disable-radix-cache');
  });
});

describe('trtllm-serve', () => {
  it('aggregated: underscore flags, the options YAML with block reuse and KV events, Prometheus on its own path', () => {
    const l = engineLaunch(spec({engine: 'trtllm'}));
    expect([l.command, ...l.args]).toEqual([
      'trtllm-serve', 'serve', 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B', '--host', '127.0.0.1', '--port', '8200', '--backend', 'pytorch',
      '--served_model_name', 'deepseek-r1', '--tp_size', '2', '--pp_size', '1', '--max_seq_len', '16384',
      '--kv_cache_free_gpu_memory_fraction', '0.90', '--extra_llm_api_options', '/run/dynamo/prefill-0/trtllm-options.yaml',
    ]);
    expect(l.metricsPath).toBe('/prometheus/metrics');
    expect(parse(l.files[0]!.contents)).toEqual({
      kv_cache_config: {
        enable_block_reuse: true,
        tokens_per_block: 16,
        free_gpu_memory_fraction: 0.9,
        event_buffer_max_size: 16384,
        kv_events_config: {enable_kv_cache_events: true, publisher: 'zmq', endpoint: 'tcp://*:20080', replay_endpoint: 'tcp://*:20081', topic: ''},
      },
      return_perf_metrics: true,
      enable_iter_perf_stats: true,
    });
  });

  it('context and generation servers: the NIXL cache transceiver sized for the longest prompt, no overlap scheduler on the context side', () => {
    const p = parse(engineLaunch(spec({engine: 'trtllm', role: 'prefill'})).files[0]!.contents);
    const d = parse(engineLaunch(spec({engine: 'trtllm', role: 'decode'})).files[0]!.contents);
    expect(p).toMatchObject({cache_transceiver_config: {backend: 'NIXL', max_tokens_in_buffer: 16384}, disable_overlap_scheduler: true});
    expect(d.cache_transceiver_config).toEqual({backend: 'NIXL', max_tokens_in_buffer: 16384});
    expect(d.disable_overlap_scheduler).toBeUndefined();
    expect(d.kv_cache_config.kv_events_config).toBeUndefined();
    const dp = engineLaunch(spec({engine: 'trtllm', gpus: [0, 1, 2, 3], dataParallelSize: 2}));
    expect(dp.args).toEqual(expect.arrayContaining(['--tp_size', '4']));
    expect(parse(dp.files[0]!.contents).enable_attention_dp).toBe(true);
  });
});

describe('launch rules', () => {
  it('refuses a GPU list that does not match the parallelism', () => {
    expect(() => engineLaunch(spec({gpus: [0]}))).toThrow(/1 GPUs given for tensor 2 × data 1 = 2/);
  });

  it('keeps every rank\'s replay port off every rank\'s PUB port', () => {
    for (const dp of [1, 2, 4, 8]) {
      const e = kvEventEndpoints({kvEventsPort: 30000, dataParallelSize: dp});
      expect(new Set([...e.endpoints, ...e.replayEndpoints]).size).toBe(2 * dp);
    }
  });
});

describe('GPUs per worker', () => {
  const box = async (name: string) => {
    const probe = await probeNvidiaSmi(recordedRun(name));
    if (probe.state !== 'ok') throw new Error(probe.reason);
    return probe.topology;
  };

  it('keeps each tensor-parallel group on NVLink: bridged pairs on a 4-GPU PCIe box, any 4 of 8 on NVSwitch', async () => {
    expect(assignGpus(await box('a100-pcie-4-nvlink-pairs'), [2, 2])).toEqual([[0, 1], [2, 3]]);
    expect(assignGpus(await box('a100-pcie-4-nvlink-pairs'), [1, 2, 1])).toEqual([[2], [0, 1], [3]]);
    expect(assignGpus(await box('h100-sxm-8'), [4, 2, 2])).toEqual([[0, 1, 2, 3], [4, 5], [6, 7]]);
  });

  it('says when the GPUs do not suffice', async () => {
    expect(assignGpus(await box('a100-pcie-4-nvlink-pairs'), [4, 1])).toBeUndefined();
    expect(assignGpus(await box('l4-1'), [2])).toBeUndefined();
  });
});
