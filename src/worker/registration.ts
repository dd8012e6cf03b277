/**
 * The worker in discovery: the record the frontend routes by (where to reach it, and the engine
 * figures the router's cost model needs), registered under a lease its heartbeats keep alive.
 */
import {openDiscovery} from '../runtime/discovery/open.js';
import type {Lease, WorkerRecord} from '../runtime/discovery/types.js';
import type {WorkerOptions} from './options.js';

export function workerRecord(opts: WorkerOptions, totalKvBlocks: number, startedAt: number): WorkerRecord {
  return {
    id: opts.workerId,
    role: opts.role,
    model: opts.servedModelName,
    engine: opts.engine,
    host: opts.advertiseHost,
    rpcPort: opts.rpcPort,
    metricsPort: opts.metricsPort,
    startedAt,
    runtime: {
      totalKvBlocks,
      blockSize: opts.blockSize,
      maxNumSeqs: opts.maxNumSeqs,
      maxNumBatchedTokens: opts.maxNumBatchedTokens,
      contextLength: opts.model.contextLength,
    },
  };
}

export function registerWorker(opts: WorkerOptions, totalKvBlocks: number, warn?: (msg: string) => void): Promise<Lease> {
  return openDiscovery(opts.discovery, warn).register(workerRecord(opts, totalKvBlocks, Date.now()));
}
