/**
 * `vllm serve` for one worker (vLLM 0.33, the version Dynamo 1.7 pins). Each flag cites where vLLM
 * documents it: docs.vllm.ai "vllm serve" CLI reference (serve), the KV events page and
 * `vllm/config/kv_events.py` (events), and the NixlConnector usage page (disaggregation);
 * summarised in ../shared/reference/peers.md §1.1, §2.1, §4.1.
 */
import {type EngineLaunch, type EngineWorkerSpec, baseEnv, kvEventEndpoints, publishesKvEvents} from '../launch.js';

export function vllmLaunch(spec: EngineWorkerSpec): EngineLaunch {
  const args = [
    'serve',
    spec.model, // serve: positional model_tag
    '--served-model-name', spec.servedModelName, // serve: the name in /v1/models and in requests
    '--host', spec.host,
    '--port', String(spec.port),
    '--tensor-parallel-size', String(spec.tensorParallelSize), // serve: parallel config
    '--data-parallel-size', String(spec.dataParallelSize),
    ...(spec.expertParallel ? ['--enable-expert-parallel'] : []), // serve: EP over the TP×DP GPUs
    '--block-size', String(spec.blockSize), // serve: cache config; the router hashes blocks of this size
    ...(spec.maxModelLen ? ['--max-model-len', String(spec.maxModelLen)] : []),
    '--gpu-memory-utilization', spec.gpuMemoryFraction.toFixed(2),
    spec.prefixCaching ? '--enable-prefix-caching' : '--no-enable-prefix-caching',
    // sha256_cbor with PYTHONHASHSEED=0: block hashes any router can recompute (peers.md §2.1, §2.3).
    '--prefix-caching-hash-algo', 'sha256_cbor',
  ];
  const events = kvEventEndpoints(spec);
  if (publishesKvEvents(spec)) {
    // events: vLLM offsets both ports by the data-parallel rank itself; the replay base sits past
    // every rank's PUB port (peers.md §1.1, "Note the collision").
    args.push('--kv-events-config', JSON.stringify({enable_kv_cache_events: true, publisher: 'zmq', endpoint: events.endpoints[0], replay_endpoint: events.replayEndpoints[0], topic: ''}));
  }
  const env = baseEnv(spec);
  if (spec.role !== 'agg') {
    // NixlConnector: the proxy (our frontend) decides who prefills, so both sides are kv_both; a
    // decode worker whose pull fails recomputes the prompt instead of failing the request.
    args.push('--kv-transfer-config', JSON.stringify({kv_connector: 'NixlConnector', kv_role: 'kv_both', ...(spec.role === 'decode' ? {kv_load_failure_policy: 'recompute'} : {})}));
    // The handshake listener: unique per vLLM instance on a host (+ dp rank, by vLLM); the host is
    // what the prefill side puts in remote_host for the decode side to reach.
    env.VLLM_NIXL_SIDE_CHANNEL_PORT = String(spec.transferPort);
    env.VLLM_NIXL_SIDE_CHANNEL_HOST = spec.advertiseHost;
  }
  args.push(...spec.extraArgs);
  return {command: 'vllm', args, env, files: [], host: spec.host, port: spec.port, healthPath: '/health', metricsPath: '/metrics', kvEvents: publishesKvEvents(spec) ? events : {endpoints: [], replayEndpoints: []}};
}
