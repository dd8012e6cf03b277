/**
 * The request-plane handler of a worker hosting a real engine: KV-event subscriptions are served
 * from the relay of the engine's own events; generate requests go to the engine's server.
 *
 * Rules:
 * - Aggregated and decode workers stream the engine's answer. A decode worker given a prefill's
 *   hand-off passes the engine's own fields on to its engine, which pulls the blocks (NIXL); a
 *   hand-off from another engine is refused, and none means the engine prefills itself.
 * - A prefill worker runs the prefill half and ends its one chunk with the hand-off, when the
 *   engine kept the blocks (none: the decode side prefills, as each engine's protocol defines).
 * - Cancelling (client gone) aborts the engine's request, which frees its blocks.
 * - While draining, or while the engine is down (restarting), new requests are refused with a
 *   kind the frontend retries elsewhere; an engine error ends the stream with its message.
 */
import type {WorkerRole} from '../config/schema.js';
import {StreamError, type StreamHandler} from '../runtime/request-plane/server.js';
import type {Logger} from '../shared/log.js';
import type {EngineClient} from './engine-client.js';
import type {KvEventPublisher} from './kv-event-publisher.js';
import {type GenerateChunk, isEngineHandoff, isKvEventSubscription, validateGenerateRequest} from './protocol.js';
import {refuseOverLimit} from './request-limit.js';

export interface EngineHandlerDeps {
  engine: string;
  client: EngineClient;
  kvEvents: KvEventPublisher;
  role: WorkerRole;
  workerId: string;
  /** Undefined while the engine serves; otherwise why requests are refused. */
  unavailable: () => {kind: 'worker_draining' | 'engine_down'; message: string} | undefined;
  /** Requests being handled, for health and draining. */
  inFlight: {count: number};
  /** Requests in flight past which new ones are shed (0 = no limit). */
  requestLimit?: number;
  log?: Pick<Logger, 'debug' | 'warn'>;
}

export function engineRequestHandler(d: EngineHandlerDeps): StreamHandler {
  return async function* (body, ctx): AsyncGenerator<unknown> {
    if (isKvEventSubscription(body)) {
      ctx.subscription?.();
      yield* d.kvEvents.subscribe(body.from, ctx.signal, body.live ?? true);
      return;
    }
    const refused = d.unavailable();
    if (refused) throw new StreamError(refused.kind, `${d.workerId}: ${refused.message}`);
    const req = validateGenerateRequest(body);
    if (typeof req === 'string') throw new StreamError('invalid_request', req);
    let handoff: Record<string, unknown> | undefined;
    if (req.kvTransfer !== undefined) {
      if (!isEngineHandoff(req.kvTransfer) || req.kvTransfer.engine !== d.engine) throw new StreamError('invalid_request', `kvTransfer is not a ${d.engine} prefill's hand-off`);
      handoff = req.kvTransfer.params;
    }
    refuseOverLimit(d.workerId, d.inFlight.count, d.requestLimit);
    d.inFlight.count++;
    try {
      if (d.role === 'prefill') {
        const {chunk, handoff: kept} = await d.client.prefill(req, ctx.signal);
        if (!kept) d.log?.debug(`${req.requestId}: ${d.engine} kept no blocks for a remote decode (finish ${chunk.finishReason ?? 'none'}); the decode side prefills`);
        const last: GenerateChunk = {...chunk, finishReason: chunk.finishReason ?? 'length', ...(kept ? {kvTransfer: {engine: d.engine, params: kept}} : {})};
        yield last;
        return;
      }
      yield* d.client.generate(req, {handoff, signal: ctx.signal});
    } catch (e) {
      if (ctx.signal.aborted) return;
      if (e instanceof StreamError) throw e; // the client already said what kind of failure it is
      throw new StreamError('engine_error', (e as Error).message);
    } finally {
      d.inFlight.count--;
    }
  };
}
