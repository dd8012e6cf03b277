/**
 * The worker's face of its in-process llama.cpp engine, in the shape every engine's client has
 * (engine-client.ts), so the same request-plane handler serves it. A prefill is the first token of
 * the answer; the prefill-to-decode hand-off of llama.cpp's sequence state is not built yet, so a
 * prefill hands nothing off and the decode worker prefills itself.
 */
import {ContextLengthError, type LlamaEngine} from '../engines/llamacpp/engine.js';
import type {TokenChunk} from '../engines/token-io.js';
import {StreamError} from '../runtime/request-plane/server.js';
import type {EngineClient, EngineHandoffParams} from './engine-client.js';
import type {GenerateRequest} from './protocol.js';

export class LlamaClient implements EngineClient {
  constructor(private readonly engine: LlamaEngine) {}

  async *generate(req: GenerateRequest, opts: {handoff?: EngineHandoffParams; signal?: AbortSignal} = {}): AsyncGenerator<TokenChunk> {
    try {
      yield* this.engine.generate({...req, id: req.requestId}, opts.signal);
    } catch (e) {
      // The client's mistake, not the engine's: the frontend answers 400 with the message.
      if (e instanceof ContextLengthError) throw new StreamError('invalid_request', e.message);
      throw e;
    }
  }

  async prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: EngineHandoffParams}> {
    for await (const chunk of this.generate({...req, maxTokens: 1}, {signal})) if (chunk.finishReason) return {chunk};
    throw new StreamError('engine_error', 'the prefill ended without a token');
  }
}
