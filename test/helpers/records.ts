import type {WorkerRecord} from '../../src/runtime/discovery/types.js';

/** A plausible worker record for discovery tests. */
export function sampleWorkerRecord(id: string): WorkerRecord {
  return {
    id,
    role: 'agg',
    model: 'm',
    engine: 'mocker',
    host: '127.0.0.1',
    rpcPort: 1,
    metricsPort: 2,
    startedAt: Date.now(),
    runtime: {totalKvBlocks: 10, blockSize: 16, maxNumSeqs: 8, maxNumBatchedTokens: 64, contextLength: 1024},
  };
}
