/**
 * `trtllm-serve` for one worker (TensorRT-LLM 1.4.0rc2, the version Dynamo 1.7 pins): flags in
 * underscore spelling (no hyphen forms), everything the CLI has no flag for in the LLM API options
 * YAML. Sources: `tensorrt_llm/commands/serve.py` (serve), `llmapi/llm_args.py` (KvCacheConfig,
 * KVEventsConfig, CacheTransceiverConfig) and examples/disaggregated/README.md, as
 * ../shared/reference/peers.md §6.1–6.3 summarise them.
 */
import {stringify} from 'yaml';
import {type EngineLaunch, type EngineWorkerSpec, baseEnv, kvEventEndpoints, publishesKvEvents} from '../launch.js';

/** The KV hand-off buffer when the model length is not set: it must hold the longest prompt. */
const DEFAULT_TRANSFER_TOKENS = 8192;

export function trtllmLaunch(spec: EngineWorkerSpec): EngineLaunch {
  const events = kvEventEndpoints(spec);
  const publish = publishesKvEvents(spec);
  // Attention data parallelism: TensorRT-LLM spreads attention over the TP ranks (tp_size covers
  // every GPU), one KV event publisher per attention-DP rank.
  const dp = spec.dataParallelSize > 1;
  const options = {
    kv_cache_config: {
      enable_block_reuse: spec.prefixCaching, // KvCacheConfig: prefix reuse, the source of KV events
      tokens_per_block: spec.blockSize,
      free_gpu_memory_fraction: Number(spec.gpuMemoryFraction.toFixed(2)),
      ...(publish
        ? {event_buffer_max_size: 16384, kv_events_config: {enable_kv_cache_events: true, publisher: 'zmq', endpoint: events.endpoints[0], replay_endpoint: events.replayEndpoints[0], topic: ''}}
        : {}),
    },
    ...(dp ? {enable_attention_dp: true} : {}),
    // Disaggregation: the transceiver moves the context's KV to the generation server over NIXL;
    // its buffer holds the longest prompt. Context servers run without the overlap scheduler.
    ...(spec.role !== 'agg' ? {cache_transceiver_config: {backend: 'NIXL', max_tokens_in_buffer: spec.maxModelLen ?? DEFAULT_TRANSFER_TOKENS}} : {}),
    ...(spec.role === 'prefill' ? {disable_overlap_scheduler: true} : {}),
    // openai_server.py serves /prometheus/metrics only with per-request perf metrics on, and the
    // running/waiting/KV gauges only with iteration stats on: the router reads both.
    return_perf_metrics: true,
    enable_iter_perf_stats: true,
  };
  const optionsPath = `${spec.configDir}/trtllm-options.yaml`;
  const args = [
    'serve',
    spec.model,
    '--host', spec.host, // serve
    '--port', String(spec.port),
    '--backend', 'pytorch',
    '--served_model_name', spec.servedModelName,
    '--tp_size', String(spec.tensorParallelSize * spec.dataParallelSize),
    '--pp_size', '1',
    ...(spec.expertParallel ? ['--ep_size', String(spec.tensorParallelSize * spec.dataParallelSize)] : []),
    ...(spec.maxModelLen ? ['--max_seq_len', String(spec.maxModelLen)] : []),
    '--kv_cache_free_gpu_memory_fraction', spec.gpuMemoryFraction.toFixed(2),
    // serve: renamed --config in later releases; this spelling is accepted by both.
    '--extra_llm_api_options', optionsPath,
    ...spec.extraArgs,
  ];
  return {
    command: 'trtllm-serve',
    args,
    env: baseEnv(spec),
    files: [{path: optionsPath, contents: stringify(options)}],
    host: spec.host,
    port: spec.port,
    healthPath: '/health',
    metricsPath: '/prometheus/metrics',
    kvEvents: publish ? events : {endpoints: [], replayEndpoints: []},
  };
}
