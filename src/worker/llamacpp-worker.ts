/**
 * A worker running llama.cpp in its own process (engines/llamacpp/): the model loads, then the
 * worker serves the request plane with the same handler as a real engine's worker (through
 * LlamaClient), publishes the engine's KV events to routers, serves vLLM-named metrics and health
 * like the mocker's worker, and registers in discovery. A stop leaves discovery, drains, then
 * frees the model.
 *
 * Sizing: `--max-num-seqs` sequences (at most MAX_SEQUENCES on a CPU), each holding the model's
 * context up to MAX_CONTEXT tokens, one batch of `--max-num-batched-tokens` per step.
 */
import {availableParallelism} from 'node:os';
import {LlamaEngine} from '../engines/llamacpp/engine.js';
import {missingCpuFeatures, requireLlama} from '../engines/llamacpp/native.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {publishWorker} from '../runtime/event-plane/nats.js';
import type {RoleLifecycle} from '../runtime/role-lifecycle.js';
import {serveRequestPlane} from '../runtime/request-plane/server.js';
import {UserError} from '../shared/errors.js';
import type {Logger} from '../shared/log.js';
import {drainWorker} from './drain.js';
import {engineRequestHandler} from './engine-handler.js';
import {KvEventPublisher} from './kv-event-publisher.js';
import {transferMetrics} from './kv-transfer.js';
import {LlamaClient} from './llamacpp-client.js';
import {LlamaStateExchange, stateSlotBytes} from './llamacpp-transfer.js';
import type {WorkerOptions} from './options.js';
import {registerWorker} from './registration.js';
import {serveWorkerStatus} from './status-server.js';
import {feedWorkerMetrics} from './worker-metrics.js';

export const MAX_SEQUENCES = 8;

/**
 * Threads per worker: half the cores, at most 4. Deployments run several workers per host, and
 * llama.cpp's threads spin while they wait: on 2 cores, two workers of 2 threads each decode
 * slower than two of one (measured in docs/engines.md).
 */
export const llamaThreads = (cores: number) => Math.max(1, Math.min(4, Math.floor(cores / 2)));
export const MAX_CONTEXT = 8192;

export async function serveLlamaWorker(opts: WorkerOptions, life: RoleLifecycle, log: Logger): Promise<void> {
  if (opts.model.format !== 'gguf' || !opts.model.path) throw new UserError(`--engine llamacpp needs a .gguf model file, not "${opts.model.name}"`, 'pass --model ./model.gguf');
  const cpu = missingCpuFeatures();
  if (cpu.length) throw new UserError(`this CPU lacks ${cpu.join(', ')}, which this build of llama.cpp needs`, 'run llamacpp workers on an x86-64 CPU with AVX2, FMA and F16C (any server since 2015)');
  const sequences = Math.min(opts.maxNumSeqs, MAX_SEQUENCES);
  const contextPerSequence = Math.min(opts.model.contextLength, MAX_CONTEXT);
  const kvEvents: KvEventPublisher = new KvEventPublisher(() => engine.slots.snapshot());
  const started = Date.now();
  const engine = LlamaEngine.open(requireLlama(), opts.model.path, {
    sequences,
    contextPerSequence,
    // Room for every sequence's decode row at least, or no step could ever run.
    batchTokens: Math.max(sequences, Math.min(opts.maxNumBatchedTokens, contextPerSequence)),
    threads: llamaThreads(availableParallelism()),
    hasher: await DynamoBlockHasher.create(opts.blockSize),
    onKvEvent: (e) => kvEvents.publish(e),
  });
  const blocksTotal = engine.blocksTotal;
  // The engine is a metrics source as it is: counters, running, waiting, KV usage, a step hook.
  const metrics = feedWorkerMetrics(engine, opts.servedModelName, opts.blockSize);
  // Prefill and decode workers move sequence state through a transfer agent (llamacpp-transfer.ts).
  const kv = opts.role !== 'agg' && opts.kvTransfer ? opts.kvTransfer : undefined;
  const transfer = kv ? transferMetrics() : undefined;
  const exchange = kv
    ? LlamaStateExchange.create({
        name: opts.workerId,
        host: opts.host,
        advertiseHost: opts.advertiseHost,
        slots: sequences,
        slotBytes: stateSlotBytes(contextPerSequence, opts.model.kvBytesPerToken.fp16),
        backend: kv.backend,
        leaseMs: kv.leaseMs,
        metrics: transfer!,
      })
    : undefined;
  let draining = false;
  const inFlight = {count: 0};
  const handler = engineRequestHandler({
    engine: 'llamacpp',
    client: new LlamaClient(engine, exchange, log),
    kvEvents,
    role: opts.role,
    workerId: opts.workerId,
    unavailable: () => (draining ? {kind: 'worker_draining', message: 'shutting down'} : undefined),
    inFlight,
    requestLimit: opts.requestLimit,
    log,
  });
  const rpc = await serveRequestPlane(handler, opts.rpcPort, opts.host, {token: opts.requestPlaneToken});
  const status = await serveWorkerStatus({
    host: opts.host,
    port: opts.metricsPort,
    health: () => ({status: draining ? 'draining' : 'ready', workerId: opts.workerId, inFlight: engine.inFlight, kvUsage: engine.kvUsage, kvEventId: kvEvents.lastEventId}),
    metrics: () => {
      metrics.refresh();
      return transfer ? metrics.render() + transfer.registry.render() : metrics.render();
    },
  });
  const stopNats = opts.natsEvents && (await publishWorker(opts.natsEvents, opts.workerId, kvEvents, () => ({kvUsage: engine.kvUsage, inFlight: engine.inFlight})));
  const lease = await registerWorker(opts, blocksTotal);
  const f = engine.facts;
  log.info(
    `worker ${opts.workerId} (${opts.role}, llamacpp) ready: ${opts.servedModelName} (${f.description}, ${(f.parameters / 1e6).toFixed(1)} M parameters) loaded in ${Date.now() - started} ms; ${sequences} sequences × ${contextPerSequence} tokens, rpc ${opts.host}:${opts.rpcPort}, metrics :${opts.metricsPort}`,
  );

  life.ready();
  const why = await life.stopped;
  draining = true;
  log.info(`worker ${opts.workerId}: ${why}; leaving discovery and draining ${inFlight.count} request(s)`);
  await drainWorker({lease, rpc, status, inFlight: () => inFlight.count, drainMs: opts.drainMs});
  await stopNats?.();
  exchange?.close();
  await engine.close();
  life.exit(0);
}
