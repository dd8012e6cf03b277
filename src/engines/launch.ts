/**
 * How a worker starts a real engine: from one worker's share of the deployment, the exact command
 * line, environment and files for vLLM, SGLang or TensorRT-LLM in its role (aggregated, prefill or
 * decode), as the versions Dynamo 1.7 pins expect them (vLLM 0.33, SGLang 0.5.23, TensorRT-LLM
 * 1.4.0rc2). Pure: the worker process runs what this returns; `up --dry-run` shows it.
 *
 * Shared rules:
 * - One HTTP server per engine (OpenAI API, health, Prometheus metrics), on `port`.
 * - KV events on ZMQ PUB at `tcp://*:<kvEventsPort + dp rank>` (every engine offsets the port by
 *   its data-parallel rank), the replay ROUTER at `kvEventsPort + dataParallelSize + rank`, so a
 *   rank's PUB port never meets another's replay port. Decode workers of a disaggregated pair
 *   publish no events: the router scores prefill placement, as Dynamo does.
 * - `PYTHONHASHSEED=0`: vLLM's block hashes (sha256_cbor) then match the router's for the same
 *   tokens, and SGLang's older content hashes are stable across restarts.
 * - `extraArgs` are appended last, so a user's flag wins over ours where the CLI takes the last.
 */
import type {WorkerRole} from '../config/schema.js';
import type {RestartPolicy} from '../process/restart.js';
import {sglangLaunch} from './sglang/launch.js';
import {trtllmLaunch} from './trtllm/launch.js';
import {vllmLaunch} from './vllm/launch.js';

export const REAL_ENGINES = ['vllm', 'sglang', 'trtllm'] as const;
export type RealEngine = (typeof REAL_ENGINES)[number];

export interface EngineWorkerSpec {
  engine: RealEngine;
  role: WorkerRole;
  /** Hugging Face id or local path of the weights. */
  model: string;
  servedModelName: string;
  host: string;
  /** The engine's HTTP port (OpenAI API, health, metrics). */
  port: number;
  /** The address peers reach this worker at (disaggregation side channels). */
  advertiseHost: string;
  /** CUDA_VISIBLE_DEVICES: tensorParallelSize × dataParallelSize GPUs. */
  gpus: readonly number[];
  tensorParallelSize: number;
  dataParallelSize: number;
  /** Experts spread over the tensor × data parallel GPUs (MoE models). */
  expertParallel: boolean;
  blockSize: number;
  maxModelLen?: number;
  /** Share of each GPU's memory the engine may take (weights, activations, KV cache). */
  gpuMemoryFraction: number;
  prefixCaching: boolean;
  /** Base ZMQ port of the KV event publishers (see the rules above). */
  kvEventsPort: number;
  /** vLLM: the NIXL side channel (VLLM_NIXL_SIDE_CHANNEL_PORT); SGLang: the prefill bootstrap port. */
  transferPort: number;
  /** Where the worker writes the files the engine reads (TensorRT-LLM's options YAML). */
  configDir: string;
  extraArgs: readonly string[];
}

export interface EngineLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Written before the engine starts. */
  files: {path: string; contents: string}[];
  /** Where its HTTP server listens (`host`, `port` of the spec). */
  host: string;
  port: number;
  /** GET paths on `port`: 200 once the model is loaded and it serves; Prometheus text. */
  healthPath: string;
  metricsPath: string;
  /** SGLang prefill servers: the bootstrap server decode servers reach for each request's rendezvous. */
  bootstrap?: {host: string; port: number};
  /** Where its KV events are published, one endpoint per data-parallel rank; none for decode workers. */
  kvEvents: {endpoints: string[]; replayEndpoints: string[]};
}

/** A real engine as its worker's child: what `dynamo up` planned for it (plan.ts), given to the worker whole. */
export interface EngineRun {
  launch: EngineLaunch;
  /** Budget for the engine to load its model and answer its health check. */
  loadTimeoutMs: number;
  restart: RestartPolicy;
  /** The engine's own output, whole (the worker's log has it too, each line prefixed). */
  logFile: string;
}

/** The publisher and replay endpoints each data-parallel rank binds. */
export function kvEventEndpoints(spec: Pick<EngineWorkerSpec, 'kvEventsPort' | 'dataParallelSize'>): {endpoints: string[]; replayEndpoints: string[]} {
  const ranks = Array.from({length: spec.dataParallelSize}, (_, r) => r);
  return {
    endpoints: ranks.map((r) => `tcp://*:${spec.kvEventsPort + r}`),
    replayEndpoints: ranks.map((r) => `tcp://*:${spec.kvEventsPort + spec.dataParallelSize + r}`),
  };
}

/** Whether this worker publishes KV events: not the decode side of a disaggregated pair. */
export const publishesKvEvents = (spec: Pick<EngineWorkerSpec, 'role' | 'prefixCaching'>) => spec.role !== 'decode' && spec.prefixCaching;

/** The environment every engine gets: its GPUs and a fixed hash seed. */
export function baseEnv(spec: Pick<EngineWorkerSpec, 'gpus'>): Record<string, string> {
  return {CUDA_VISIBLE_DEVICES: spec.gpus.join(','), PYTHONHASHSEED: '0'};
}

export function engineLaunch(spec: EngineWorkerSpec): EngineLaunch {
  const want = spec.tensorParallelSize * spec.dataParallelSize;
  if (spec.gpus.length !== want) throw new Error(`${spec.engine} worker: ${spec.gpus.length} GPUs given for tensor ${spec.tensorParallelSize} × data ${spec.dataParallelSize} = ${want}`);
  switch (spec.engine) {
    case 'vllm':
      return vllmLaunch(spec);
    case 'sglang':
      return sglangLaunch(spec);
    case 'trtllm':
      return trtllmLaunch(spec);
  }
}
