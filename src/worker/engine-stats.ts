/**
 * What the router needs of a real engine, read from its own Prometheus page: requests running and
 * waiting, and the share of its KV cache in use (0–1). The worker serves these on /health
 * (`kv_usage`, as for the mocker) and the frontend's pool reads them. Pure.
 *
 * Names per engine (../shared/reference/peers.md §3, §5.3, §6.1): vLLM `vllm:num_requests_running`,
 * `vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc` (before 0.10: `vllm:gpu_cache_usage_perc`);
 * SGLang `sglang:num_running_reqs`, `sglang:num_queue_reqs`, `sglang:token_usage`; TensorRT-LLM
 * `trtllm_num_requests_running`, `trtllm_num_requests_waiting`, `trtllm_kv_cache_utilization`.
 * Counts add up over series (one per data-parallel rank); the KV share is their mean.
 */
import type {RealEngine} from '../engines/launch.js';
import {parseExposition} from '../top/exposition.js';

export interface EngineStats {
  running?: number;
  waiting?: number;
  /** 0–1 */
  kvUsage?: number;
  /** KV blocks the engine allocated (vLLM's `cache_config_info{num_gpu_blocks}`), where it says. */
  kvBlocksTotal?: number;
}

const NAMES: Record<RealEngine, {running: string[]; waiting: string[]; kvUsage: string[]; info?: string}> = {
  vllm: {running: ['vllm:num_requests_running'], waiting: ['vllm:num_requests_waiting'], kvUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'], info: 'vllm:cache_config_info'},
  sglang: {running: ['sglang:num_running_reqs'], waiting: ['sglang:num_queue_reqs'], kvUsage: ['sglang:token_usage']},
  trtllm: {running: ['trtllm_num_requests_running'], waiting: ['trtllm_num_requests_waiting'], kvUsage: ['trtllm_kv_cache_utilization']},
};

const filter = (n: (typeof NAMES)[RealEngine]): ReadonlySet<string> => new Set([...n.running, ...n.waiting, ...n.kvUsage, ...(n.info ? [n.info] : [])]);
const FILTERS: Record<RealEngine, ReadonlySet<string>> = {vllm: filter(NAMES.vllm), sglang: filter(NAMES.sglang), trtllm: filter(NAMES.trtllm)};

export function engineStats(engine: RealEngine, page: string): EngineStats {
  const families = parseExposition(page, {only: FILTERS[engine]});
  const values = (names: string[]) => {
    for (const name of names) {
      const f = families.get(name);
      if (f?.samples.length) return f.samples.map((s) => s.value).filter(Number.isFinite);
    }
    return undefined;
  };
  const sum = (xs: number[] | undefined) => (xs?.length ? xs.reduce((a, b) => a + b, 0) : undefined);
  const names = NAMES[engine];
  const kv = values(names.kvUsage);
  const blocks = names.info ? families.get(names.info)?.samples.map((s) => Number(s.labels.num_gpu_blocks)).filter((n) => Number.isInteger(n) && n > 0) : undefined;
  return {
    running: sum(values(names.running)),
    waiting: sum(values(names.waiting)),
    kvUsage: kv?.length ? Math.min(1, Math.max(0, sum(kv)! / kv.length)) : undefined,
    ...(blocks?.length ? {kvBlocksTotal: sum(blocks)} : {}),
  };
}
