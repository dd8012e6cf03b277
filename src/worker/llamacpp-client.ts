/**
 * The worker's face of its in-process llama.cpp engine, in the shape every engine's client has
 * (engine-client.ts), so the same request-plane handler serves it.
 *
 * Disaggregated: a prefill is the answer's first token, and the prompt's KV state held for the
 * decode worker (llamacpp-transfer.ts); the decode worker pulls that state and continues from it.
 * No exchange (aggregated), or a state that cannot be held or pulled: the decode worker prefills.
 */
import {ContextLengthError, type LlamaEngine, type LlamaRequest} from '../engines/llamacpp/engine.js';
import type {TokenChunk} from '../engines/token-io.js';
import {StreamError} from '../runtime/request-plane/server.js';
import type {Logger} from '../shared/log.js';
import type {EngineClient, EngineHandoffParams} from './engine-client.js';
import {type LlamaStateExchange, isLlamaHandoff} from './llamacpp-transfer.js';
import type {GenerateRequest} from './protocol.js';

export class LlamaClient implements EngineClient {
  constructor(
    private readonly engine: LlamaEngine,
    private readonly exchange?: LlamaStateExchange,
    private readonly log?: Pick<Logger, 'debug' | 'warn'>,
  ) {}

  async *generate(req: GenerateRequest, opts: {handoff?: EngineHandoffParams; signal?: AbortSignal} = {}): AsyncGenerator<TokenChunk> {
    let state: Buffer | undefined;
    let stateNext: number | undefined;
    if (opts.handoff !== undefined) {
      if (!isLlamaHandoff(opts.handoff)) throw new StreamError('invalid_request', 'kvTransfer is not a llama.cpp prefill hand-off');
      if (this.exchange) {
        const pulled = await this.exchange.pull(opts.handoff, req.tokenIds.length);
        if (pulled.ok) {
          state = pulled.state;
          stateNext = opts.handoff.next;
          this.log?.debug(`${req.requestId}: pulled a ${state.length}-byte KV state from ${opts.handoff.peer} in ${pulled.ms.toFixed(2)} ms`);
        } else this.log?.warn(`${req.requestId}: ${pulled.error}`);
      }
    }
    for await (const {state: _, ...chunk} of this.run({...req, id: req.requestId, state, stateNext}, opts.signal)) yield chunk;
  }

  async prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: EngineHandoffParams}> {
    for await (const {state, ...chunk} of this.run({...req, id: req.requestId, maxTokens: 1, captureState: this.exchange !== undefined}, signal)) {
      if (!chunk.finishReason) continue;
      const handoff = state && this.exchange?.hold(req.requestId, state, chunk.tokenIds[0]!);
      return handoff ? {chunk, handoff: {...handoff}} : {chunk};
    }
    throw new StreamError('engine_error', 'the prefill ended without a token');
  }

  private async *run(req: LlamaRequest, signal?: AbortSignal) {
    try {
      yield* this.engine.generate(req, signal);
    } catch (e) {
      // The client's mistake, not the engine's: the frontend answers 400 with the message.
      if (e instanceof ContextLengthError) throw new StreamError('invalid_request', e.message);
      throw e;
    }
  }
}
