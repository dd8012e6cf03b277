/**
 * The worker's request-plane handler: a KV-event subscription streams the engine's cache events to
 * a router; anything else is a generate request, streamed as the engine produces tokens. The
 * stream's signal (client cancel or dropped connection) cancels the request in the engine, which
 * frees its blocks at once. A draining worker refuses new requests but keeps serving subscriptions.
 *
 * Disaggregated serving (kv-transfer.ts): a prefill worker produces one token and its last chunk
 * says where the prompt's blocks are held; a decode worker given those pulls the blocks it lacks
 * before the engine sees the request, so the engine finds them cached and prefills only the rest.
 * A failed pull is logged and counted, and the request is prefilled here.
 *
 * Its open generate streams are counted (`inFlight`): the drain waits for them, and past
 * `requestLimit` a new one is shed (request-limit.ts).
 */
import type {WorkerRole} from '../config/schema.js';
import {StreamError, type StreamHandler} from '../runtime/request-plane/server.js';
import type {Logger} from '../shared/log.js';
import {blocksOf} from '../engines/mocker/kv-blocks.js';
import {type DecodePuller, type PrefillLeases, isKvTransferParams} from './kv-transfer.js';
import type {MockerWorkerEngine} from './mocker-engine.js';
import {type GenerateChunk, isKvEventSubscription, validateGenerateRequest} from './protocol.js';
import {refuseOverLimit} from './request-limit.js';
import type {WorkerMetricsFeed} from './worker-metrics.js';

export interface RequestHandlerDeps {
  mocker: MockerWorkerEngine;
  metrics: WorkerMetricsFeed;
  role: WorkerRole;
  workerId: string;
  isDraining: () => boolean;
  /** Generate streams open on the request plane, from acceptance to their last chunk sent (the drain waits for 0). */
  inFlight: {count: number};
  /** Streams in flight past which new ones are shed (0 = no limit). */
  requestLimit?: number;
  /** Prefill workers of a disaggregated deployment. */
  leases?: PrefillLeases;
  /** Decode workers of a disaggregated deployment. */
  puller?: DecodePuller;
  log?: Pick<Logger, 'debug' | 'warn'>;
}

export function workerRequestHandler(deps: RequestHandlerDeps): StreamHandler {
  const generate = generateHandler(deps);
  return async function* (body, ctx): AsyncGenerator<unknown> {
    if (isKvEventSubscription(body)) {
      ctx.subscription?.();
      yield* deps.mocker.kvEvents.subscribe(body.from, ctx.signal, body.live ?? true);
      return;
    }
    if (deps.isDraining()) throw new StreamError('worker_draining', `${deps.workerId} is shutting down`);
    refuseOverLimit(deps.workerId, deps.inFlight.count, deps.requestLimit);
    deps.inFlight.count++;
    try {
      yield* generate(body, ctx);
    } finally {
      deps.inFlight.count--;
    }
  };
}

function generateHandler({mocker, metrics, role, leases, puller, log}: RequestHandlerDeps): StreamHandler {
  return async function* (body, ctx): AsyncGenerator<unknown> {
    const req = validateGenerateRequest(body);
    if (typeof req === 'string') throw new StreamError('invalid_request', req);
    // Prefill workers of a disaggregated pair produce exactly one token, then hand the blocks off.
    const maxTokens = role === 'prefill' ? 1 : req.maxTokens;
    let pulled: Awaited<ReturnType<DecodePuller['pull']>> | undefined;
    if (puller && req.kvTransfer !== undefined) {
      if (!isKvTransferParams(req.kvTransfer)) throw new StreamError('invalid_request', 'kvTransfer is not what a prefill worker sends');
      pulled = await puller.pull(req.kvTransfer, blocksOf(mocker.hasher, req.tokenIds));
      if (!pulled.ok) log?.warn(`${req.requestId}: ${pulled.error}`);
      else log?.debug(`${req.requestId}: pulled ${pulled.pulledBlocks} KV block(s), ${pulled.bytes} bytes in ${pulled.ms.toFixed(2)} ms from ${req.kvTransfer.peer}`);
    }
    const releaseHold = () => {
      if (pulled?.ok) mocker.blocks.free(pulled.hold);
      pulled = undefined;
    };
    const observer = metrics.request(req.arrivedAt ?? Date.now());
    const chunks = mocker.engine.generate(
      {
        id: req.requestId,
        prompt: req.tokenIds,
        maxTokens,
        eosTokenId: mocker.output.eosTokenId,
        ignoreEos: req.ignoreEos,
        nextToken: await mocker.output.tokenSource(req, maxTokens),
      },
      ctx.signal,
    );
    try {
      for await (const c of chunks) {
        // The engine has taken the pulled blocks by its first token: they are its to keep or evict now.
        releaseHold();
        const done = observer.chunk(c, Date.now());
        if (done) log?.debug(`${req.requestId}: ${req.tokenIds.length} prompt tokens (${done.cachedTokens} cached), ${done.generatedTokens} generated, ${done.finishReason}, ${done.elapsedMs} ms`);
        let chunk: GenerateChunk = c;
        if (c.finishReason && leases) {
          const kvTransfer = leases.hold(req.requestId, blocksOf(mocker.hasher, req.tokenIds));
          if (kvTransfer) chunk = {...c, kvTransfer};
        }
        yield chunk;
      }
    } finally {
      releaseHold();
    }
  };
}
