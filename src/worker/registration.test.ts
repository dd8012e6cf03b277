import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import type {WorkerOptions} from './options.js';
import {workerRecord} from './registration.js';

const opts: WorkerOptions = {
  engine: 'mocker',
  role: 'decode',
  model: resolveModel('qwen3-0.6b'),
  servedModelName: 'qwen',
  workerId: 'decode-1',
  host: '0.0.0.0',
  advertiseHost: 'gpu1.internal',
  rpcPort: 8102,
  metricsPort: 8103,
  blockSize: 32,
  discovery: {backend: 'file', dir: '/unused'},
  gpuMemoryGb: 80,
  maxNumSeqs: 128,
  maxNumBatchedTokens: 4096,
  speedupRatio: 1,
  requestLimit: 0, drainMs: 3000,
};

describe('the discovery record of a worker', () => {
  it('tells the frontend where to connect (the advertised host, not the bind address) and what the router sizes by', () => {
    expect(workerRecord(opts, 5000, 1234)).toEqual({
      id: 'decode-1',
      role: 'decode',
      model: 'qwen',
      engine: 'mocker',
      host: 'gpu1.internal',
      rpcPort: 8102,
      metricsPort: 8103,
      startedAt: 1234,
      runtime: {totalKvBlocks: 5000, blockSize: 32, maxNumSeqs: 128, maxNumBatchedTokens: 4096, contextLength: 40960},
    });
  });
});
