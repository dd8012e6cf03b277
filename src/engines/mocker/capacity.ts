/**
 * How many KV blocks a simulated GPU holds: the worker gets enough GPUs of `gpuMemoryGb` to keep
 * the weights within 60 % of their memory, reserves `utilization` of the total (vLLM's
 * gpu_memory_utilization, 0.9), and what the weights leave is KV cache.
 */
import type {ModelInfo} from '../../config/models.js';

export interface CapacityOptions {
  gpuMemoryGb: number;
  blockSize: number;
  utilization?: number;
  /** KV cache element size: 2 (fp16/bf16) or 1 (fp8). */
  kvDtypeBytes?: 1 | 2;
}

export interface Capacity {
  gpus: number;
  kvCacheBytes: number;
  blocks: number;
  tokens: number;
}

export function kvCapacity(model: ModelInfo, opts: CapacityOptions): Capacity {
  const mem = opts.gpuMemoryGb * 1024 ** 3;
  const weights = model.parameters * model.weightBytesPerParam;
  const gpus = Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(1, weights / (0.6 * mem)))));
  const kvCacheBytes = gpus * mem * (opts.utilization ?? 0.9) - weights;
  const perToken = opts.kvDtypeBytes === 1 ? model.kvBytesPerToken.fp8 : model.kvBytesPerToken.bf16;
  const blocks = Math.max(16, Math.floor(kvCacheBytes / (perToken * opts.blockSize)));
  return {gpus, kvCacheBytes, blocks, tokens: blocks * opts.blockSize};
}
