/**
 * A worker process: one engine behind the request plane, with a metrics/health port, registered in
 * discovery under a lease. Stops cleanly on SIGTERM (leave discovery first, so the frontend routes
 * elsewhere, then drain) and by itself when its supervisor disappears.
 *
 * This is the composition root of the mocker's worker: each piece (engine, request handler, status
 * port, registration, drain) lives in its own module; here they are built in order and wired
 * together. A real engine's worker is composed in engine-worker.ts.
 */
import {type RoleLifecycle, roleLifecycle} from '../runtime/role-lifecycle.js';
import {publishWorker} from '../runtime/event-plane/nats.js';
import {serveRequestPlane} from '../runtime/request-plane/server.js';
import {type Logger, logger} from '../shared/log.js';
import {UserError} from '../shared/errors.js';
import {drainWorker} from './drain.js';
import {serveEngineWorker} from './engine-worker.js';
import {serveLlamaWorker} from './llamacpp-worker.js';
import {DecodePuller, KvMemory, PrefillLeases, mockerBlockBytes, transferMetrics} from './kv-transfer.js';
import {buildMockerEngine} from './mocker-engine.js';
import type {WorkerOptions} from './options.js';
import {registerWorker} from './registration.js';
import {workerRequestHandler} from './request-handler.js';
import {serveWorkerStatus} from './status-server.js';
import {feedWorkerMetrics, mockerMetricsSource} from './worker-metrics.js';

export type {WorkerOptions} from './options.js';

export async function runWorker(opts: WorkerOptions): Promise<void> {
  const log = logger();
  const life = roleLifecycle((why) => log.info(`worker ${opts.workerId}: ${why} while starting; exiting`));
  await life.run(() => serveWorker(opts, life, log));
}

async function serveWorker(opts: WorkerOptions, life: RoleLifecycle, log: Logger): Promise<void> {
  if (opts.engine === 'llamacpp') return serveLlamaWorker(opts, life, log);
  if (opts.engine !== 'mocker') {
    if (!opts.engineRun) throw new UserError(`engine ${opts.engine} needs its launch plan (--engine-run)`, 'start real engines with `dynamo up --engine ' + opts.engine + '`, which plans each worker\'s engine; `dynamo up --dry-run --json` shows it');
    return serveEngineWorker(opts, opts.engineRun, life, log);
  }
  const mocker = await buildMockerEngine(opts);
  const metrics = feedWorkerMetrics(mockerMetricsSource(mocker), opts.servedModelName, opts.blockSize);
  let draining = false;
  const isDraining = () => draining;

  // Prefill and decode workers back their blocks with memory in a transfer agent (kv-transfer.ts).
  const kv = opts.role !== 'agg' && opts.kvTransfer ? opts.kvTransfer : undefined;
  const transfer = kv ? transferMetrics() : undefined;
  const memory = kv
    ? KvMemory.create({
        name: opts.workerId,
        host: opts.host,
        advertiseHost: opts.advertiseHost,
        totalBlocks: mocker.blocksTotal,
        blockBytes: mockerBlockBytes(opts.model.kvBytesPerToken.bf16, opts.blockSize, kv.memoryScale),
        backend: kv.backend,
      })
    : undefined;
  const leases = memory && opts.role === 'prefill' ? new PrefillLeases(memory, mocker.blocks, kv!.leaseMs, transfer!) : undefined;
  const puller = memory && opts.role === 'decode' ? new DecodePuller(memory, mocker.blocks, kv!.backend, transfer!) : undefined;

  const inFlight = {count: 0};
  const handler = workerRequestHandler({mocker, metrics, role: opts.role, workerId: opts.workerId, isDraining, inFlight, requestLimit: opts.requestLimit, leases, puller, log});
  const rpc = await serveRequestPlane(handler, opts.rpcPort, opts.host, {token: opts.requestPlaneToken});
  const status = await serveWorkerStatus({
    host: opts.host,
    port: opts.metricsPort,
    health: () => ({
      status: draining ? 'draining' : 'ready',
      workerId: opts.workerId,
      inFlight: mocker.engine.inFlight,
      kvUsage: mocker.blocks.usage,
      // What a test or an operator checks for leaks: every block free or cached-and-unused when idle.
      kvBlocks: {total: mocker.blocksTotal, free: mocker.blocks.freeBlocks, active: mocker.blocks.activeBlocks, inactive: mocker.blocks.inactiveBlocks, ...(leases ? {leases: leases.held} : {})},
      kvEventId: mocker.kvEvents.lastEventId,
    }),
    metrics: () => {
      metrics.refresh();
      return transfer ? metrics.render() + transfer.registry.render() : metrics.render();
    },
  });
  const stopNats = opts.natsEvents && (await publishWorker(opts.natsEvents, opts.workerId, mocker.kvEvents, () => ({kvUsage: mocker.blocks.usage, inFlight: mocker.engine.inFlight})));
  const lease = await registerWorker(opts, mocker.blocksTotal);
  log.info(`worker ${opts.workerId} (${opts.role}, ${opts.engine}) ready: ${opts.servedModelName}, ${mocker.blocksTotal} KV blocks of ${opts.blockSize}, rpc ${opts.host}:${opts.rpcPort}, metrics :${opts.metricsPort}`);

  life.ready();
  const why = await life.stopped;
  draining = true;
  log.info(`worker ${opts.workerId}: ${why}; leaving discovery and draining ${inFlight.count} request(s)`);
  // Streams, not the engine's count: a finished request may still be sending its last chunks.
  await drainWorker({lease, rpc, status, inFlight: () => inFlight.count, drainMs: opts.drainMs});
  await stopNats?.();
  leases?.close();
  memory?.close();
  life.exit(0);
}
