import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {engineStats} from './engine-stats.js';

const page = (name: string) => readFileSync(new URL(`../../test/fixtures/metrics/${name}`, import.meta.url), 'utf8');

describe('engine stats from the engine\'s own /metrics', () => {
  it('reads running, waiting and KV usage from recorded vLLM and SGLang pages', () => {
    expect(engineStats('vllm', page('vllm.prom'))).toEqual({running: 12, waiting: 3, kvUsage: 0.421905737704918, kvBlocksTotal: 30732});
    expect(engineStats('sglang', page('sglang.prom'))).toEqual({running: 24, waiting: 5, kvUsage: 0.31});
  });

  it('adds counts over data-parallel ranks, averages the KV share, and takes the older vLLM name', () => {
    const dp = [
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{engine="0",model_name="m"} 3',
      'vllm:num_requests_running{engine="1",model_name="m"} 5',
      '# TYPE vllm:gpu_cache_usage_perc gauge',
      'vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.2',
      'vllm:gpu_cache_usage_perc{engine="1",model_name="m"} 0.6',
    ].join('\n');
    const s = engineStats('vllm', dp);
    expect(s.running).toBe(8);
    expect(s.kvUsage).toBeCloseTo(0.4);
    expect(s.waiting).toBeUndefined();
  });

  it('reads TensorRT-LLM\'s Prometheus names', () => {
    const trt = [
      '# TYPE trtllm_num_requests_running gauge',
      'trtllm_num_requests_running{model_name="m",engine_type="pytorch"} 7',
      '# TYPE trtllm_num_requests_waiting gauge',
      'trtllm_num_requests_waiting{model_name="m",engine_type="pytorch"} 1',
      '# TYPE trtllm_kv_cache_utilization gauge',
      'trtllm_kv_cache_utilization{model_name="m",engine_type="pytorch"} 0.75',
    ].join('\n');
    expect(engineStats('trtllm', trt)).toEqual({running: 7, waiting: 1, kvUsage: 0.75});
  });

  it('says nothing it did not read: an empty or foreign page', () => {
    expect(engineStats('vllm', '')).toEqual({running: undefined, waiting: undefined, kvUsage: undefined});
    expect(engineStats('sglang', page('vllm.prom'))).toEqual({running: undefined, waiting: undefined, kvUsage: undefined});
  });
});
