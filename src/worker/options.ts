/** What a worker process is started with (the `dynamo worker` flags, parsed). */
import type {ModelInfo} from '../config/models.js';
import type {TRANSFER_BACKENDS, WorkerRole} from '../config/schema.js';

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
  discoveryDir: string;
  numGpuBlocks?: number;
  /** GPUs this worker spans; undefined = auto (engines/mocker/capacity.ts). */
  tensorParallelSize?: number;
  gpuMemoryGb: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  speedupRatio: number;
  drainMs: number;
  /** Prefill and decode roles: how their KV blocks are held in memory and moved (worker/kv-transfer.ts). */
  kvTransfer?: {leaseMs: number; backend: (typeof TRANSFER_BACKENDS)[number]; memoryScale: number};
}
