/**
 * The frontend process: loads the model pipeline, follows the workers in discovery, serves the
 * OpenAI API. On SIGTERM (or when its supervisor disappears) it stops taking requests, lets the
 * in-flight ones finish for up to `drainMs`, then exits.
 */
import pjson from '../../package.json' with {type: 'json'};
import {type Logger, logger} from '../shared/log.js';
import type {ModelInfo} from '../config/models.js';
import {type DiscoveryTarget, openDiscovery} from '../runtime/discovery/open.js';
import {UserError} from '../shared/errors.js';
import {type RoleLifecycle, roleLifecycle} from '../runtime/role-lifecycle.js';
import {type RouterSettings, createRouter} from '../router/policies.js';
import {tokenCapacity} from './admission.js';
import {createFrontendApp} from './app.js';
import type {HttpApp, HttpReply, HttpRequest} from './http.js';
import {listen, readTlsFiles} from './listen.js';
import type {MigrationSettings} from './migration.js';
import {frontendMetrics} from './metrics.js';
import {ModelPipeline} from './model-pipeline.js';
import {type BusyThresholds, notBusy} from '../router/policy.js';
import {RouterQueue} from '../router/queue.js';
import {NatsKvSubscriber, openNats} from '../runtime/event-plane/nats.js';
import {allocatorKeepsFreedMemory, preTouchHeap} from '../runtime/pre-touch.js';
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
  /** Megabytes of heap touched at start and kept (runtime/pre-touch.ts); 0 = none. */
  preTouchMb: number;
}

export async function runFrontend(opts: FrontendOptions): Promise<void> {
  const log = logger();
  const life = roleLifecycle((why) => log.info(`frontend: ${why} while starting; exiting`));
  await life.run(() => serveFrontend(opts, life, log));
}

async function serveFrontend(opts: FrontendOptions, life: RoleLifecycle, log: Logger): Promise<void> {
  const pipeline = await ModelPipeline.load(opts.model, opts.servedModelName);
  await preTouch(opts.preTouchMb, log);
  const warn = (m: string) => log.warn(`frontend: ${m}`);
  // On the NATS event plane, workers' KV events and loads come from there (runtime/event-plane/nats.ts).
  const nats = opts.natsEvents ? new NatsKvSubscriber(await openNats(opts.natsEvents.url, `dynamo frontend ${process.pid}`), opts.natsEvents.deployment, warn) : undefined;
  const pool = new WorkerPool(openDiscovery(opts.discovery, warn), opts.servedModelName, {loads: nats, token: opts.requestPlaneToken});
  const router = await createRouter(opts.router);
  const sinkFor = router.eventSink?.bind(router);
  const sourceFor = nats && ((id: string, conn: Parameters<typeof natsEventSource>[1]) => natsEventSource(id, conn, nats));
  const feed = sinkFor ? followKvEvents(pool, {sinkFor, removeWorker: (w) => router.removeWorker?.(w)}, warn, sourceFor) : undefined;
  const thresholds: BusyThresholds = {maxInflight: opts.busyMaxInflight, maxKvUsage: opts.busyKvUsage};
  const saturated = router.saturated?.bind(router);
  const admission = opts.admissionControl === 'token-capacity' ? tokenCapacity(pool, thresholds) : undefined;
  if (admission && !(saturated && opts.router.queueThreshold > 0)) {
    throw new UserError('admission control token-capacity needs the router queue', 'use --router-mode kv with --router-queue-threshold above 0, or --admission-control none');
  }
  const queue = saturated && opts.router.queueThreshold > 0 ? new RouterQueue(() => saturated(notBusy(pool.snapshot(), thresholds), opts.router.queueThreshold), {capacityTokens: admission?.capacityTokens}) : undefined;
  pool.start();
  const metrics = frontendMetrics();
  // Bound once: every prompt reports here.
  const templateMs = metrics.tokenizerLatencyMs.bind({operation: 'template'});
  const tokenizeMs = metrics.tokenizerLatencyMs.bind({operation: 'tokenize'});
  const reusedTokens = metrics.tokenizerPrefixTokens.bind({result: 'reused'});
  const encodedTokens = metrics.tokenizerPrefixTokens.bind({result: 'encoded'});
  const renders = {compiled: metrics.templateRenders.bind({render: 'compiled'}), resumed: metrics.templateRenders.bind({render: 'resumed'}), full: metrics.templateRenders.bind({render: 'full'})};
  pipeline.onTokenize = (t) => {
    if (t.templateMs) templateMs.observe(t.templateMs);
    tokenizeMs.observe(t.encodeMs);
    reusedTokens.inc(t.reusedTokens);
    encodedTokens.inc(t.tokens - t.reusedTokens);
    if (t.render) renders[t.render].inc();
  };
  let accepting = true;
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
    kvEventId: feed && ((w) => feed.stats(w)?.lastEventId),
  });
  // PEM files are read before anything else waits: a missing file is one line, at once.
  const tls = opts.tls && readTlsFiles(opts.tls);
  const debug = log.enabled('debug');
  let inflight = 0;
  const counted = whileInFlight(app, {
    started: () => inflight++,
    over: (req, reply, ms) => {
      inflight--;
      if (debug) log.debug(`${req.method} ${req.path} → ${reply.status} ${reply.headers['x-dynamo-worker-id'] ?? '-'} ${ms.toFixed(1)} ms${req.signal.aborted ? ' (client gone)' : ''}`);
    },
  });
  // Workers already registered, and what their caches hold, are known before the port opens (etcd
  // answers in a round trip; each worker sends a snapshot of its blocks): `up` takes a 200 from
  // /health as ready, and a request let in before that finds no worker, or routes blind (a
  // restarted frontend would throw away every worker's cached prefixes).
  // The timer holds the process up (an etcd that does not answer has only unref'd retries): after it, serve anyway.
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([pool.firstView.then(() => feed?.allSynced()), new Promise((r) => (waited = setTimeout(r, 5_000)))]);
  clearTimeout(waited);
  const server = await listen(counted, {host: opts.host, port: opts.port, tls, idleTimeoutS: 65});
  log.info(`frontend ready: ${opts.tls ? 'https' : 'http'}://${opts.host}:${opts.port}/v1 serving ${opts.servedModelName} (router ${opts.router.mode}, ${pool.size} worker(s) now)`);

  life.ready();
  const why = await life.stopped;
  accepting = false;
  log.info(`frontend: ${why}; no new requests, draining ${inflight}`);
  server.stopAccepting();
  const deadline = Date.now() + opts.drainMs;
  while (inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  server.closeAll();
  feed?.stop();
  await nats?.close();
  pool.stop();
  life.exit(0);
}

/** Before the port opens, so no request waits behind it. Useless where the allocator gives freed pages back. */
async function preTouch(mb: number, log: Logger): Promise<void> {
  if (mb <= 0) return;
  if (!allocatorKeepsFreedMemory()) {
    log.warn(`frontend: not pre-touching ${mb} MB: this runtime gives freed memory back, so the pages would not stay (the binary keeps them with MIMALLOC_PURGE_DELAY=-1, which \`dynamo up\` sets)`);
    return;
  }
  const t0 = performance.now();
  await preTouchHeap(mb, () => (globalThis as {Bun?: {gc(full: boolean): void}}).Bun?.gc(true));
  log.info(`frontend: pre-touched ${mb} MB of heap in ${Math.round(performance.now() - t0)} ms`);
}

/** Tells when each request starts and when its reply is over: a stream when its last frame is pulled or its client leaves. */
function whileInFlight(app: HttpApp, hear: {started(): void; over(req: HttpRequest, reply: HttpReply, ms: number): void}): HttpApp {
  return async (req) => {
    hear.started();
    const t0 = performance.now();
    const reply = await app(req); // never throws: a failure is an error reply
    if (!('stream' in reply)) {
      hear.over(req, reply, performance.now() - t0);
      return reply;
    }
    const frames = reply.stream;
    async function* counted() {
      try {
        yield* frames;
      } finally {
        hear.over(req, reply, performance.now() - t0);
      }
    }
    return {...reply, stream: counted()};
  };
}
