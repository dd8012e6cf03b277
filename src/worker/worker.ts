/**
 * A worker process: one engine behind the request plane, with a metrics/health port, registered in
 * discovery under a lease. Stops cleanly on SIGTERM (leave discovery first, so the frontend routes
 * elsewhere, then drain) and by itself when its supervisor disappears.
 *
 * This is the composition root: each piece (engine, request handler, status port, registration,
 * drain) lives in its own module; here they are built in order and wired together.
 */
import {engineNotAvailable} from '../config/not-yet.js';
import {roleLifecycle} from '../runtime/role-lifecycle.js';
import {serveRequestPlane} from '../runtime/request-plane/server.js';
import {logger} from '../shared/log.js';
import {drainWorker} from './drain.js';
import {buildMockerEngine} from './mocker-engine.js';
import type {WorkerOptions} from './options.js';
import {registerWorker} from './registration.js';
import {workerRequestHandler} from './request-handler.js';
import {serveWorkerStatus} from './status-server.js';
import {feedWorkerMetrics} from './worker-metrics.js';

export type {WorkerOptions} from './options.js';

export async function runWorker(opts: WorkerOptions): Promise<void> {
  const log = logger();
  const life = roleLifecycle((why) => log.info(`worker ${opts.workerId}: ${why} while starting; exiting`));
  const refused = engineNotAvailable(opts.engine);
  if (refused) throw refused;
  const mocker = await buildMockerEngine(opts);
  const metrics = feedWorkerMetrics(mocker, opts.servedModelName, opts.blockSize);
  let draining = false;
  const isDraining = () => draining;

  const handler = workerRequestHandler({mocker, metrics, role: opts.role, workerId: opts.workerId, isDraining, log});
  const rpc = await serveRequestPlane(handler, opts.rpcPort, opts.host);
  const status = await serveWorkerStatus({
    host: opts.host,
    port: opts.metricsPort,
    health: () => ({draining, workerId: opts.workerId, inFlight: mocker.engine.inFlight, kvUsage: mocker.blocks.usage}),
    metrics: () => {
      metrics.refresh();
      return metrics.render();
    },
  });
  const lease = await registerWorker(opts, mocker.blocksTotal);
  log.info(`worker ${opts.workerId} (${opts.role}, ${opts.engine}) ready: ${opts.servedModelName}, ${mocker.blocksTotal} KV blocks of ${opts.blockSize}, rpc ${opts.host}:${opts.rpcPort}, metrics :${opts.metricsPort}`);

  life.ready();
  const why = await life.stopped;
  draining = true;
  log.info(`worker ${opts.workerId}: ${why}; leaving discovery and draining ${mocker.engine.inFlight} request(s)`);
  await drainWorker({lease, rpc, status, inFlight: () => mocker.engine.inFlight, drainMs: opts.drainMs});
  life.exit(0);
}
