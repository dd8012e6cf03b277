/**
 * How a model sits on GPUs, the rule vLLM applies at start-up, shared by the mocker (which sizes its
 * simulated KV cache with it) and `dynamo sanity` (which judges real GPUs with it):
 * - A worker spans `tp` GPUs (tensor parallelism); the weights split evenly across them.
 * - Each GPU reserves `utilization` of its memory (vLLM's gpu_memory_utilization, 0.9); what the
 *   weights leave there is KV cache, summed over the worker's GPUs.
 * - An explicit TP whose weight share leaves no room on a GPU is an error naming the TP that fits
 *   (vLLM fails the same way, later, with an out-of-memory error).
 * - Unset TP ("auto", the mocker's behaviour since the start): the fewest GPUs, a power of two,
 *   that keep the weights within AUTO_WEIGHT_SHARE (60%) of their memory, so that at least a third
 *   of what is reserved stays for the KV cache.
 * Simplification: the KV cache is counted as split across TP ranks. For MLA models (DeepSeek) vLLM
 * keeps the latent on every rank, so a real engine holds fewer tokens at TP > 1 than counted here.
 */
import type {ModelInfo} from '../../config/models.js';
import {UserError} from '../../shared/errors.js';

/** vLLM's default gpu_memory_utilization. */
export const DEFAULT_UTILIZATION = 0.9;
/** Auto TP keeps the weights within this share of each GPU's memory. */
export const AUTO_WEIGHT_SHARE = 0.6;
/** The largest TP considered (the config's maximum). */
export const MAX_TENSOR_PARALLEL = 64;

const GIB = 1024 ** 3;

export interface CapacityOptions {
  gpuMemoryGb: number;
  blockSize: number;
  /** GPUs per worker; unset = auto (see the header). */
  tensorParallelSize?: number;
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

/** How one worker at one TP sits on GPUs of one size. */
export interface TpFit {
  tp: number;
  /** The weights' share on each GPU. */
  weightsPerGpu: number;
  /** What the weights leave for KV cache on each GPU (negative when they do not fit). */
  kvBytesPerGpu: number;
  /** KV cache tokens over the worker's GPUs (0 when the weights do not fit). */
  kvTokens: number;
}

export interface FitOptions {
  utilization?: number;
  kvDtypeBytes?: 1 | 2;
}

export const weightBytes = (model: ModelInfo): number => model.parameters * model.weightBytesPerParam;

const kvBytesPerToken = (model: ModelInfo, dtype: 1 | 2 = 2): number => (dtype === 1 ? model.kvBytesPerToken.fp8 : model.kvBytesPerToken.bf16);

/** "625 GiB", "9.5 GiB". */
export const formatGib = (bytes: number): string => {
  const g = bytes / GIB;
  return `${g < 10 ? Math.round(g * 10) / 10 : Math.round(g)} GiB`;
};

export function fitAtTp(model: ModelInfo, tp: number, gpuMemoryBytes: number, opts: FitOptions = {}): TpFit {
  const weightsPerGpu = weightBytes(model) / tp;
  const kvBytesPerGpu = gpuMemoryBytes * (opts.utilization ?? DEFAULT_UTILIZATION) - weightsPerGpu;
  const kvTokens = kvBytesPerGpu > 0 ? Math.floor((tp * kvBytesPerGpu) / kvBytesPerToken(model, opts.kvDtypeBytes)) : 0;
  return {tp, weightsPerGpu, kvBytesPerGpu, kvTokens};
}

/** The fewest GPUs, a power of two, that keep the weights within 60% of their memory. */
export function autoTensorParallel(model: ModelInfo, gpuMemoryBytes: number): number {
  return Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(1, weightBytes(model) / (AUTO_WEIGHT_SHARE * gpuMemoryBytes)))));
}

/** The smallest TP, a power of two up to 64, whose GPUs hold the weights and `kvTokens` of KV cache; undefined when none does. */
export function minTensorParallel(model: ModelInfo, gpuMemoryBytes: number, kvTokens = 0, opts: FitOptions = {}): number | undefined {
  for (let tp = 1; tp <= MAX_TENSOR_PARALLEL; tp *= 2) {
    const fit = fitAtTp(model, tp, gpuMemoryBytes, opts);
    if (fit.kvBytesPerGpu > 0 && fit.kvTokens >= kvTokens) return tp;
  }
  return undefined;
}

/** The error an explicit TP gets when its weight share leaves no room on a simulated GPU. */
function doesNotFit(model: ModelInfo, fit: TpFit, opts: CapacityOptions): UserError {
  const mem = opts.gpuMemoryGb * GIB;
  const util = opts.utilization ?? DEFAULT_UTILIZATION;
  const need = minTensorParallel(model, mem, 0, opts);
  return new UserError(
    `${model.name} at tensor parallel ${fit.tp} needs ${formatGib(fit.weightsPerGpu)} of weights per GPU, more than the ${formatGib(mem * util)} a simulated ${opts.gpuMemoryGb} GiB GPU offers (${Math.round(util * 100)}%)` +
      (need ? `: it needs --tensor-parallel-size ≥ ${need}` : ''),
    `${need ? `use --tensor-parallel-size ${need} or more, ` : ''}leave it unset (the mocker then picks enough GPUs), or give each simulated GPU more memory (mocker.gpuMemoryGb)`,
  );
}

/** How many KV blocks a simulated worker holds; throws a UserError when an explicit TP cannot hold the weights. */
export function kvCapacity(model: ModelInfo, opts: CapacityOptions): Capacity {
  const mem = opts.gpuMemoryGb * GIB;
  const gpus = opts.tensorParallelSize ?? autoTensorParallel(model, mem);
  const fit = fitAtTp(model, gpus, mem, opts);
  if (opts.tensorParallelSize !== undefined && fit.kvBytesPerGpu <= 0) throw doesNotFit(model, fit, opts);
  const kvCacheBytes = gpus * fit.kvBytesPerGpu;
  const blocks = Math.max(16, Math.floor(kvCacheBytes / (kvBytesPerToken(model, opts.kvDtypeBytes) * opts.blockSize)));
  return {gpus, kvCacheBytes, blocks, tokens: blocks * opts.blockSize};
}
