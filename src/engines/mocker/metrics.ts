/**
 * Worker metrics under vLLM's names and labels (`model_name`, `engine`), so the same scrapers
 * and dashboards work for mocker and real vLLM workers. Counters carry `_total` on the wire.
 */
import {Registry} from '../../metrics/prometheus.js';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export function workerMetrics() {
  const r = new Registry();
  return {
    registry: r,
    running: r.gauge('vllm:num_requests_running', 'Number of requests in model execution batches.'),
    waiting: r.gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.'),
    kvUsage: r.gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.'),
    prefixQueries: r.counter('vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried tokens.'),
    prefixHits: r.counter('vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.'),
    promptTokens: r.counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.'),
    generationTokens: r.counter('vllm:generation_tokens_total', 'Number of generation tokens processed.'),
    preemptions: r.counter('vllm:num_preemptions_total', 'Cumulative number of preemptions.'),
    success: r.counter('vllm:request_success_total', 'Count of successfully processed requests.'),
    ttft: r.histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', LATENCY_BUCKETS),
    itl: r.histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS),
    e2e: r.histogram('vllm:e2e_request_latency_seconds', 'Histogram of end-to-end request latency in seconds.', E2E_BUCKETS),
    cacheConfig: r.gauge('vllm:cache_config_info', 'Information of the LLMEngine CacheConfig.'),
  };
}

export type WorkerMetrics = ReturnType<typeof workerMetrics>;
