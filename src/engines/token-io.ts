/**
 * What any engine is asked and answers, in token ids: the frontend has tokenized and templated,
 * so engines see token ids and sampling, and give token ids back. The worker's request-plane
 * messages (src/worker/protocol.ts) extend these; each engine's adapter maps them to its API.
 */
export interface TokenRequest {
  tokenIds: number[];
  maxTokens: number;
  minTokens?: number;
  ignoreEos?: boolean;
  seed?: number;
  temperature?: number;
  topP?: number;
}

export interface TokenChunk {
  tokenIds: number[];
  finishReason?: 'length' | 'stop';
  /** Prompt tokens served from the prefix cache (first or last chunk, as the engine reports it). */
  cachedTokens?: number;
}
