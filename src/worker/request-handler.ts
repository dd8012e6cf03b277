/**
 * The worker's request-plane handler: a KV-event subscription streams the engine's cache events to
 * a router; anything else is a generate request, streamed as the engine produces tokens. The
 * stream's signal (client cancel or dropped connection) cancels the request in the engine, which
 * frees its blocks at once. A draining worker refuses new requests but keeps serving subscriptions.
 */
import type {WorkerRole} from '../config/schema.js';
import {StreamError, type StreamHandler} from '../runtime/request-plane/server.js';
import type {Logger} from '../shared/log.js';
import type {MockerWorkerEngine} from './mocker-engine.js';
import {isKvEventSubscription, validateGenerateRequest} from './protocol.js';
import type {WorkerMetricsFeed} from './worker-metrics.js';

export interface RequestHandlerDeps {
  mocker: MockerWorkerEngine;
  metrics: WorkerMetricsFeed;
  role: WorkerRole;
  workerId: string;
  isDraining: () => boolean;
  log?: Pick<Logger, 'debug'>;
}

export function workerRequestHandler({mocker, metrics, role, workerId, isDraining, log}: RequestHandlerDeps): StreamHandler {
  return async function* (body, ctx): AsyncGenerator<unknown> {
    if (isKvEventSubscription(body)) {
      yield* mocker.kvEvents.subscribe(body.from, ctx.signal);
      return;
    }
    if (isDraining()) throw new StreamError('worker_draining', `${workerId} is shutting down`);
    const req = validateGenerateRequest(body);
    if (typeof req === 'string') throw new StreamError('invalid_request', req);
    // Prefill workers of a disaggregated pair produce exactly one token (the hand-off comes later).
    const maxTokens = role === 'prefill' ? 1 : req.maxTokens;
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
    for await (const chunk of chunks) {
      const done = observer.chunk(chunk, Date.now());
      if (done) log?.debug(`${req.requestId}: ${req.tokenIds.length} prompt tokens (${done.cachedTokens} cached), ${done.generatedTokens} generated, ${done.finishReason}, ${done.elapsedMs} ms`);
      yield chunk;
    }
  };
}
