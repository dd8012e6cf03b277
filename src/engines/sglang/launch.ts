/**
 * `python3 -m sglang.launch_server` for one worker (SGLang 0.5.23, the version Dynamo 1.7 pins).
 * Flags as docs.sglang.io "Server Arguments" lists them (server args); KV events and PD
 * disaggregation as ../shared/reference/peers.md §5.2–5.4 summarise `server_args.py` and
 * `disaggregation/`.
 */
import {type EngineLaunch, type EngineWorkerSpec, baseEnv, kvEventEndpoints, publishesKvEvents} from '../launch.js';

export function sglangLaunch(spec: EngineWorkerSpec): EngineLaunch {
  const args = [
    '-m', 'sglang.launch_server',
    '--model-path', spec.model, // server args: model and tokenizer
    '--served-model-name', spec.servedModelName,
    '--host', spec.host, // server args: HTTP server
    '--port', String(spec.port),
    '--tp-size', String(spec.tensorParallelSize), // server args: data parallelism and tensor parallelism (alias --tp)
    '--dp-size', String(spec.dataParallelSize),
    ...(spec.expertParallel ? ['--ep-size', String(spec.tensorParallelSize)] : []), // server args: expert parallelism
    '--page-size', String(spec.blockSize), // server args: memory and scheduling; one KV event per page
    ...(spec.maxModelLen ? ['--context-length', String(spec.maxModelLen)] : []),
    '--mem-fraction-static', spec.gpuMemoryFraction.toFixed(2),
    ...(spec.prefixCaching ? [] : ['--disable-radix-cache']),
    '--enable-metrics', // without it /metrics answers 404 (peers.md §5.3)
  ];
  const events = kvEventEndpoints(spec);
  if (publishesKvEvents(spec)) {
    // SGLang's publisher defaults to "null": name zmq explicitly (peers.md §5.4).
    args.push('--kv-events-config', JSON.stringify({publisher: 'zmq', endpoint: events.endpoints[0], replay_endpoint: events.replayEndpoints[0], topic: ''}));
  }
  if (spec.role !== 'agg') {
    // PD: prefill and decode get the same request at once, joined by bootstrap host/port/room; the
    // prefill side serves the bootstrap on its own port (peers.md §5.2).
    args.push('--disaggregation-mode', spec.role, '--disaggregation-transfer-backend', 'nixl');
    if (spec.role === 'prefill') args.push('--disaggregation-bootstrap-port', String(spec.transferPort));
  }
  args.push(...spec.extraArgs);
  return {
    command: 'python3',
    args,
    env: baseEnv(spec),
    files: [],
    host: spec.host,
    port: spec.port,
    healthPath: '/health',
    metricsPath: '/metrics',
    ...(spec.role === 'prefill' ? {bootstrap: {host: spec.advertiseHost, port: spec.transferPort}} : {}),
    kvEvents: publishesKvEvents(spec) ? events : {endpoints: [], replayEndpoints: []},
  };
}
