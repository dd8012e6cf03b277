/** What a worker process is started with (the `dynamo worker` flags, parsed). */
import type {NatsEventsTarget} from '../runtime/event-plane/nats.js';
import type {ModelInfo} from '../config/models.js';
import type {TRANSFER_BACKENDS, WorkerRole} from '../config/schema.js';
import {z} from 'zod';
import type {EngineRun} from '../engines/launch.js';
import type {DiscoveryTarget} from '../runtime/discovery/open.js';
import {UserError} from '../shared/errors.js';

export type {EngineRun};

export interface WorkerOptions {
  engine: string;
  role: WorkerRole;
  model: ModelInfo;
  /** Name clients use in `model`. */
  servedModelName: string;
  workerId: string;
  host: string;
  advertiseHost: string;
  rpcPort: number;
  metricsPort: number;
  blockSize: number;
  /** Where the worker registers (file store or etcd). */
  discovery: DiscoveryTarget;
  /** Connections must present this first (runtime/request-plane/token.ts); none: any is served. */
  requestPlaneToken?: string;
  numGpuBlocks?: number;
  /** GPUs this worker spans; undefined = auto (engines/mocker/capacity.ts). */
  tensorParallelSize?: number;
  gpuMemoryGb: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  speedupRatio: number;
  drainMs: number;
  /** Generate requests in flight past which new ones are shed (worker_busy → 503); 0 = no limit. */
  requestLimit: number;
  /** Prefill and decode roles: how their KV blocks are held in memory and moved (worker/kv-transfer.ts). */
  kvTransfer?: {leaseMs: number; backend: (typeof TRANSFER_BACKENDS)[number]; memoryScale: number};
  /** Real engines (vllm, sglang, trtllm): the engine to start and drive. */
  engineRun?: EngineRun;
  /** KV events also published on NATS (runtime/event-plane/nats.ts), for every frontend to follow. */
  natsEvents?: NatsEventsTarget;
}

const engineRunSchema = z.object({
  launch: z.object({
    command: z.string().min(1),
    args: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    files: z.array(z.object({path: z.string().min(1), contents: z.string()})),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    healthPath: z.string().startsWith('/'),
    metricsPath: z.string().startsWith('/'),
    bootstrap: z.object({host: z.string().min(1), port: z.number().int().min(1).max(65535)}).optional(),
    kvEvents: z.object({endpoints: z.array(z.string()), replayEndpoints: z.array(z.string())}),
  }),
  loadTimeoutMs: z.number().int().positive(),
  restart: z.object({maxRestarts: z.number().int().min(0), backoffMs: z.number().int().min(0), backoffMaxMs: z.number().int().min(0), stableMs: z.number().int().min(0)}),
  logFile: z.string().min(1),
});

/** `--engine-run` as `dynamo up` writes it; a clear error for anything else. */
export function parseEngineRun(text: string): EngineRun {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--engine-run is not JSON: ${(e as Error).message}`, 'take it from `dynamo up --dry-run --json` (each worker\'s argv)');
  }
  const r = engineRunSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new UserError(`--engine-run: ${first.path.join('.') || '(root)'}: ${first.message}`, 'take it from `dynamo up --dry-run --json` (each worker\'s argv)');
  }
  return r.data;
}
