/**
 * Discovery: how the frontend finds workers. Workers register a record under a lease they keep
 * alive with heartbeats; a record whose lease lapses (the worker died) disappears. The embedded
 * default is a file store in the run directory; etcd implements the same interface later.
 */
import type {WorkerRole} from '../../config/schema.js';

/** What a worker publishes about itself (Dynamo's instance + model deployment card, condensed). */
export interface WorkerRecord {
  id: string;
  role: WorkerRole;
  /** Served model name, as clients send it in `model`. */
  model: string;
  engine: string;
  host: string;
  rpcPort: number;
  metricsPort: number;
  startedAt: number;
  runtime: {
    totalKvBlocks: number;
    blockSize: number;
    maxNumSeqs: number;
    maxNumBatchedTokens: number;
    contextLength: number;
  };
}

export interface Lease {
  revoke(): Promise<void>;
}

export interface DiscoveryStore {
  register(record: WorkerRecord): Promise<Lease>;
  list(): Promise<WorkerRecord[]>;
  /** Calls `onChange` with the full live set whenever it changes, and once at the start, even when it is empty. */
  watch(onChange: (workers: WorkerRecord[]) => void): () => void;
}
