/**
 * A worker hosting a real engine (vLLM, SGLang, TensorRT-LLM): the engine runs as the worker's
 * child (engine-process.ts), and the worker is its face to the deployment: the request plane in
 * front of the engine's server (engine-handler.ts), the engine's KV events relayed to routers
 * (engine-kv-relay.ts), its metrics served and read (engine-metrics.ts), and a discovery record
 * that exists only while the engine serves.
 *
 * Order: the worker's own ports open first, answering 503 "loading"; the engine starts; once it
 * serves the worker registers. An engine crash takes the worker out of discovery until the engine
 * is back; restarts that give up end the worker (its supervisor then decides). A stop leaves
 * discovery, drains, then stops the engine's whole process group.
 */
import type {RealEngine} from '../engines/launch.js';
import type {Lease} from '../runtime/discovery/types.js';
import type {RoleLifecycle} from '../runtime/role-lifecycle.js';
import {publishWorker} from '../runtime/event-plane/nats.js';
import {serveRequestPlane} from '../runtime/request-plane/server.js';
import type {Logger} from '../shared/log.js';
import {selfArgv} from '../shared/self.js';
import {drainWorker} from './drain.js';
import type {EngineClient} from './engine-client.js';
import {engineRequestHandler} from './engine-handler.js';
import {EngineKvRelay} from './engine-kv-relay.js';
import {EngineMetricsPoller} from './engine-metrics.js';
import {EngineProcess} from './engine-process.js';
import type {EngineRun, WorkerOptions} from './options.js';
import {registerWorker} from './registration.js';
import {type WorkerState, serveWorkerStatus} from './status-server.js';
import {SglangClient} from './sglang-client.js';
import {TrtllmClient} from './trtllm-client.js';
import {VllmClient} from './vllm-client.js';

/** SIGTERM → SIGKILL for an engine: it frees GPU memory and NIXL registrations on the way out. */
const ENGINE_STOP_GRACE_MS = 15_000;

function clientFor(engine: RealEngine, baseUrl: string, model: string, run: EngineRun, log: Logger): EngineClient {
  switch (engine) {
    case 'vllm':
      return new VllmClient(baseUrl, model);
    case 'trtllm':
      return new TrtllmClient(baseUrl, model);
    case 'sglang':
      // Only a prefill server has a bootstrap; the others never run a prefill half.
      return new SglangClient(baseUrl, model, {
        bootstrapHost: run.launch.bootstrap?.host ?? run.launch.host,
        bootstrapPort: run.launch.bootstrap?.port ?? 0,
        onBackgroundError: (e, requestId) => log.warn(`${requestId}: SGLang prefill failed: ${e.message}`),
      });
  }
}

/** Where the worker reaches the engine's listeners: its own host, or loopback when it listens everywhere. */
const engineAddress = (host: string) => (['0.0.0.0', '::', '*'].includes(host) ? '127.0.0.1' : host);

export async function serveEngineWorker(opts: WorkerOptions, run: EngineRun, life: RoleLifecycle, log: Logger): Promise<void> {
  const engine = opts.engine as RealEngine;
  const address = engineAddress(run.launch.host);
  const baseUrl = `http://${address.includes(':') ? `[${address}]` : address}:${run.launch.port}`;
  let state: WorkerState = 'loading';
  const inFlight = {count: 0};

  const relay = new EngineKvRelay({...run.launch.kvEvents, address, blockSize: opts.blockSize, workerId: opts.workerId, warn: (m) => log.warn(m)});
  const poller = new EngineMetricsPoller(engine, `${baseUrl}${run.launch.metricsPath}`);
  const client = clientFor(engine, baseUrl, opts.servedModelName, run, log);
  const handler = engineRequestHandler({
    engine,
    client,
    kvEvents: relay.publisher,
    role: opts.role,
    workerId: opts.workerId,
    unavailable: () => (state === 'ready' ? undefined : state === 'draining' ? {kind: 'worker_draining', message: 'shutting down'} : {kind: 'engine_down', message: `its ${engine} engine is ${state}`}),
    inFlight,
    requestLimit: opts.requestLimit,
    log,
  });
  const rpc = await serveRequestPlane(handler, opts.rpcPort, opts.host, {token: opts.requestPlaneToken});
  const stopNats = opts.natsEvents && (await publishWorker(opts.natsEvents, opts.workerId, relay.publisher, () => ({kvUsage: poller.stats.kvUsage ?? 0, inFlight: inFlight.count})));
  const status = await serveWorkerStatus({
    host: opts.host,
    port: opts.metricsPort,
    health: () => ({status: state, workerId: opts.workerId, inFlight: inFlight.count, kvUsage: poller.stats.kvUsage ?? 0, kvEventId: relay.publisher.lastEventId}),
    metrics: () => poller.page,
  });

  // Registration follows the engine: in while it serves, out while it is down. `engineUp` is the
  // engine's state now; the chain of registrations catches up with it in order.
  let engineUp = false;
  let lease: Lease | undefined;
  let registration: Promise<void> = Promise.resolve();
  const proc = new EngineProcess({
    name: engine,
    launch: run.launch,
    address,
    port: run.launch.port,
    logFile: run.logFile,
    log: (line) => log.info(line),
    loadTimeoutMs: run.loadTimeoutMs,
    restart: run.restart,
    wrap: [...selfArgv(), 'tether', '--grace-ms', String(ENGINE_STOP_GRACE_MS), '--'],
    onUp: () => {
      engineUp = true;
      registration = registration.then(async () => {
        relay.start();
        await poller.poll();
        poller.start();
        if (!engineUp || state === 'draining') return;
        lease ??= await registerWorker(opts, poller.stats.kvBlocksTotal ?? 0);
        state = 'ready';
        log.info(`worker ${opts.workerId} (${opts.role}, ${engine}) ready: ${opts.servedModelName} at ${baseUrl}, rpc ${opts.host}:${opts.rpcPort}, metrics :${opts.metricsPort}`);
      });
    },
    onDown: (why, restarting) => {
      engineUp = false;
      if (state !== 'draining') state = 'restarting';
      log.warn(`worker ${opts.workerId}: ${why}; leaving discovery${restarting ? ' until it is back' : ''}`);
      registration = registration.then(async () => {
        if (engineUp) return;
        await lease?.revoke();
        lease = undefined;
      });
    },
    onGiveUp: (why) => {
      log.error(`worker ${opts.workerId}: ${why}; exiting`);
      void relay.close().finally(() => life.exit(1));
    },
  });

  life.ready();
  // The first start may take many minutes; a stop meanwhile ends it without waiting.
  const first = await Promise.race([proc.start().then(() => undefined, (e: Error) => e), life.stopped.then((why) => ({stoppedBy: why}))]);
  if (first instanceof Error || (first && 'stoppedBy' in first)) {
    await proc.stop(ENGINE_STOP_GRACE_MS);
    await relay.close();
    await stopNats?.();
    rpc.close();
    status.close();
    if (first instanceof Error) throw first;
    log.info(`worker ${opts.workerId}: ${first.stoppedBy} while its engine loaded; stopped`);
    life.exit(0);
  }
  await registration;

  const why = await life.stopped;
  state = 'draining';
  await registration;
  log.info(`worker ${opts.workerId}: ${why}; leaving discovery and draining ${inFlight.count} request(s)`);
  await drainWorker({lease, rpc, status, inFlight: () => inFlight.count, drainMs: opts.drainMs});
  // Prefills handed off but still running (SGLang) finish before their engine stops, within the drain budget.
  if (client.settled) await Promise.race([client.settled(), new Promise((r) => setTimeout(r, opts.drainMs))]);
  poller.stop();
  await proc.stop(ENGINE_STOP_GRACE_MS);
  await relay.close();
  await stopNats?.();
  life.exit(0);
}
