/** An open model and its context (opaque). */
export type LlamaHandle = {readonly __llama: unique symbol};

export interface LlamaModelFacts {
  description: string;
  architecture: string;
  contextTrain: number;
  contextTokens: number;
  sequences: number;
  embedding: number;
  layers: number;
  vocabSize: number;
  parameters: number;
  bytes: number;
  bos: number;
  eos: number;
  chatTemplate?: string;
  /** Tokens that end generation (EOS, EOT, <|im_end|>, …) as llama.cpp's vocabulary marks them. */
  endOfGeneration: Int32Array;
}

export interface LlamaAddon {
  /** poll: how eagerly idle threads spin for work, 0–100 (ggml's default 50). */
  open(path: string, options: {contextTokens: number; sequences: number; batchTokens: number; threads: number; poll?: number}): LlamaHandle;
  close(engine: LlamaHandle): void;
  info(engine: LlamaHandle): LlamaModelFacts;
  tokenize(engine: LlamaHandle, text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  /** The tokens' bytes, special tokens rendered. */
  piece(engine: LlamaHandle, tokens: Int32Array): Buffer;
  /** One llama_decode of every row, then one sampled token per row that wants logits; sampling = [temperature, topP, topK, uniform] per such row. */
  step(engine: LlamaHandle, tokens: Int32Array, positions: Int32Array, seqs: Int32Array, wantLogits: Int8Array, sampling: Float64Array): Promise<Int32Array>;
  /** Drops positions [p0, p1) of a sequence (p1 < 0: to the end; seq < 0: all sequences). */
  seqRemove(engine: LlamaHandle, seq: number, p0: number, p1: number): boolean;
  /** `to` shares `from`'s cells for positions [p0, p1). */
  seqCopy(engine: LlamaHandle, from: number, to: number, p0: number, p1: number): void;
  seqPosMax(engine: LlamaHandle, seq: number): number;
  seqStateGet(engine: LlamaHandle, seq: number): Buffer;
  /** Bytes read; 0 when the state does not fit or is not this model's. */
  seqStateSet(engine: LlamaHandle, seq: number, state: Uint8Array): number;
}

declare const addon: Partial<LlamaAddon> & {loadError?: string};
export = addon;
