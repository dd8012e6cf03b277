/**
 * The frontend process: loads the model pipeline, follows the workers in discovery, serves the
 * OpenAI API. On SIGTERM (or when its supervisor disappears) it stops taking requests, lets the
 * in-flight ones finish for up to `drainMs`, then exits.
 */
import {readFileSync} from 'node:fs';
import {type IncomingMessage, type RequestListener, type Server, type ServerResponse, createServer} from 'node:http';
import {createServer as createTlsServer} from 'node:https';
import pjson from '../../package.json' with {type: 'json'};
import {type Logger, logger} from '../shared/log.js';
import type {ModelInfo} from '../config/models.js';
import {type DiscoveryTarget, openDiscovery} from '../runtime/discovery/open.js';
import {UserError} from '../shared/errors.js';
import {type RoleLifecycle, roleLifecycle} from '../runtime/role-lifecycle.js';
import {type RouterSettings, createRouter} from '../router/policies.js';
import {tokenCapacity} from './admission.js';
import {createFrontendApp} from './app.js';
import type {MigrationSettings} from './migration.js';
import {frontendMetrics} from './metrics.js';
import {ModelPipeline} from './model-pipeline.js';
import {type BusyThresholds, notBusy} from '../router/policy.js';
import {RouterQueue} from '../router/queue.js';
import {NatsKvSubscriber, openNats} from '../runtime/event-plane/nats.js';
import {followKvEvents} from './kv-event-feed.js';
import {natsEventSource} from './nats-event-source.js';
import {WorkerPool} from './worker-pool.js';

export interface FrontendOptions {
  host: string;
  port: number;
  model: ModelInfo;
  servedModelName: string;
  apiKey?: string;
  /** PEM files: serve HTTPS. */
  tls?: {cert: string; key: string};
  router: RouterSettings;
  discovery: DiscoveryTarget;
  /** Presented to every worker first (runtime/request-plane/token.ts). */
  requestPlaneToken?: string;
  busyMaxInflight: number;
  busyKvUsage: number;
  bodyLimitBytes: number;
  drainMs: number;
  /** Disaggregated serving's thresholds (the deployment has prefill workers). */
  disagg?: {maxLocalPrefillLength: number; maxPrefillQueueSize: number};
  /** KV events through NATS (runtime/event-plane/nats.ts) rather than from each worker directly. */
  natsEvents?: {url: string; deployment: string};
  /** Moving a request to another worker when its worker fails it (migration.ts). */
  migration: MigrationSettings;
  /** token-capacity: a full router queue refuses new requests at once with `overloadStatus`. */
  admissionControl: 'none' | 'token-capacity';
  overloadStatus: number;
}

export async function runFrontend(opts: FrontendOptions): Promise<void> {
  const log = logger();
  const life = roleLifecycle((why) => log.info(`frontend: ${why} while starting; exiting`));
  await life.run(() => serveFrontend(opts, life, log));
}

async function serveFrontend(opts: FrontendOptions, life: RoleLifecycle, log: Logger): Promise<void> {
  const pipeline = await ModelPipeline.load(opts.model, opts.servedModelName);
  const warn = (m: string) => log.warn(`frontend: ${m}`);
  // On the NATS event plane, workers' KV events and loads come from there (runtime/event-plane/nats.ts).
  const nats = opts.natsEvents ? new NatsKvSubscriber(await openNats(opts.natsEvents.url, `dynamo frontend ${process.pid}`), opts.natsEvents.deployment, warn) : undefined;
  const pool = new WorkerPool(openDiscovery(opts.discovery, warn), opts.servedModelName, {loads: nats, token: opts.requestPlaneToken});
  const router = await createRouter(opts.router);
  const applyEvent = router.applyEvent;
  const sourceFor = nats && ((id: string, conn: Parameters<typeof natsEventSource>[1]) => natsEventSource(id, conn, nats));
  const feed = applyEvent ? followKvEvents(pool, {applyEvent, removeWorker: (w) => router.removeWorker?.(w)}, warn, sourceFor) : undefined;
  const thresholds: BusyThresholds = {maxInflight: opts.busyMaxInflight, maxKvUsage: opts.busyKvUsage};
  const saturated = router.saturated?.bind(router);
  const admission = opts.admissionControl === 'token-capacity' ? tokenCapacity(pool, thresholds) : undefined;
  if (admission && !(saturated && opts.router.queueThreshold > 0)) {
    throw new UserError('admission control token-capacity needs the router queue', 'use --router-mode kv with --router-queue-threshold above 0, or --admission-control none');
  }
  const queue = saturated && opts.router.queueThreshold > 0 ? new RouterQueue(() => saturated(notBusy(pool.snapshot(), thresholds), opts.router.queueThreshold), {capacityTokens: admission?.capacityTokens}) : undefined;
  pool.start();
  const metrics = frontendMetrics();
  let accepting = true;
  let inflight = 0;
  const app = createFrontendApp({
    pool,
    pipeline,
    metrics,
    router,
    queue,
    thresholds,
    migration: opts.migration,
    overloadStatus: admission ? opts.overloadStatus : undefined,
    overloaded: admission && (() => admission.overloaded(queue)),
    migrations: {
      migrated: (type, from, to) => {
        metrics.migrations.inc({model: opts.servedModelName, migration_type: type});
        log.info(`frontend: a request moved from ${from} to ${to} (${type})`);
      },
      maxSeqLenExceeded: () => metrics.migrationMaxSeqLenExceeded.inc({model: opts.servedModelName}),
    },
    disagg: opts.disagg ? {...opts.disagg, blockSize: opts.router.blockSize} : undefined,
    apiKey: opts.apiKey,
    bodyLimitBytes: opts.bodyLimitBytes,
    version: pjson.version,
    accepting: () => accepting,
  });
  const debug = log.enabled('debug');
  const server = listenerFor(opts.tls, (req, res) => {
    inflight++;
    const started = debug ? performance.now() : 0;
    res.on('close', () => {
      inflight--;
      if (debug) log.debug(`${req.method} ${req.url} → ${res.statusCode} ${res.getHeader('x-dynamo-worker-id') ?? '-'} ${(performance.now() - started).toFixed(1)} ms${res.writableFinished ? '' : ' (client gone)'}`);
    });
    app(req, res);
  });
  server.keepAliveTimeout = 65_000;
  // Workers already registered, and what their caches hold, are known before the port opens (etcd
  // answers in a round trip; each worker sends a snapshot of its blocks): `up` takes a 200 from
  // /health as ready, and a request let in before that finds no worker, or routes blind (a
  // restarted frontend would throw away every worker's cached prefixes).
  await Promise.race([pool.firstView.then(() => feed?.allSynced()), new Promise((r) => setTimeout(r, 5_000).unref())]);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError(`port ${opts.port} on ${opts.host} is already in use`, 'stop what holds it, or choose another with --port') : e),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  log.info(`frontend ready: ${opts.tls ? 'https' : 'http'}://${opts.host}:${opts.port}/v1 serving ${opts.servedModelName} (router ${opts.router.mode}, ${pool.size} worker(s) now)`);

  life.ready();
  const why = await life.stopped;
  accepting = false;
  log.info(`frontend: ${why}; no new requests, draining ${inflight}`);
  server.close();
  server.closeIdleConnections();
  const deadline = Date.now() + opts.drainMs;
  while (inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  server.closeAllConnections();
  feed?.stop();
  await nats?.close();
  pool.stop();
  life.exit(0);
}

/** Plain HTTP, or HTTPS with the given PEM files (read now: a missing file is the user's to fix, before the port opens). */
function listenerFor(tls: FrontendOptions['tls'], handle: RequestListener<typeof IncomingMessage, typeof ServerResponse>): Server {
  if (!tls) return createServer(handle);
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new UserError(`cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give PEM files with --tls-cert and --tls-key (frontend.tlsCert, frontend.tlsKey)');
    }
  };
  try {
    return createTlsServer({cert: read(tls.cert, 'certificate'), key: read(tls.key, 'key')}, handle) as unknown as Server;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`the TLS certificate and key do not make a server: ${(e as Error).message}`, 'give a PEM certificate and its own private key');
  }
}
