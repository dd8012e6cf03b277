import {mkdtempSync, rmSync} from 'node:fs';
import type {Server} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {until} from '../../test/helpers/processes.js';
import {registerTestWorker} from '../../test/helpers/test-worker.js';
import {FileDiscovery} from '../runtime/discovery/file-store.js';
import type {Lease} from '../runtime/discovery/types.js';
import {serveRequestPlane} from '../runtime/request-plane/server.js';
import {type LoadSource, WorkerPool} from './worker-pool.js';

/** Worker agg-0 of model "m" in the file store at `runDir`, served by `server`. */
const registerAgg0 = (runDir: string, server: Server): Promise<Lease> =>
  registerTestWorker(runDir, server, {id: 'agg-0', model: 'm', engine: 'mocker', metricsPort: 1, runtime: {totalKvBlocks: 1, blockSize: 16, maxNumSeqs: 1, maxNumBatchedTokens: 1, contextLength: 1}});

describe('WorkerPool with published loads (the NATS event plane)', () => {
  let runDir: string;
  let server: Server;
  let lease: Lease;
  beforeAll(async () => {
    server = await serveRequestPlane(async function* () {}, 0);
    runDir = mkdtempSync(join(tmpdir(), 'dyn-pool-'));
    lease = await registerAgg0(runDir, server);
  });
  afterAll(async () => {
    await lease.revoke();
    server.close();
    rmSync(runDir, {recursive: true, force: true});
  });

  it('takes each worker’s KV usage from the loads it hears, for workers it knows', async () => {
    const listeners: ((l: {worker: string; kvUsage: number}) => void)[] = [];
    const loads: LoadSource = {onLoad: (l) => listeners.push(l)};
    const pool = new WorkerPool(new FileDiscovery(runDir), 'm', {healthPollMs: 10, loads});
    pool.start();
    try {
      await pool.firstView;
      await until(() => pool.snapshot().length === 1, 5000, 'the worker in the pool');
      for (const l of listeners) l({worker: 'agg-0', kvUsage: 0.42});
      for (const l of listeners) l({worker: 'stranger', kvUsage: 0.9});
      expect(pool.snapshot()).toEqual([expect.objectContaining({id: 'agg-0', kvUsage: 0.42})]);
    } finally {
      pool.stop();
    }
  });
});

describe('WorkerPool when a worker leaves discovery mid-request (a draining worker)', () => {
  it('routes nothing more to it, and lets the request it is finishing end on its connection', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = await serveRequestPlane(async function* () {
      yield 'first';
      await gate;
      yield 'last';
    }, 0);
    const runDir = mkdtempSync(join(tmpdir(), 'dyn-pool-'));
    const lease = await registerAgg0(runDir, server);
    const pool = new WorkerPool(new FileDiscovery(runDir), 'm', {healthPollMs: 60_000});
    pool.start();
    try {
      await until(() => pool.snapshot().length === 1, 5000, 'the worker in the pool');
      const stream = pool.call('agg-0', {});
      expect((await stream.next()).value).toBe('first');
      await lease.revoke(); // the worker leaves discovery to drain
      await until(() => pool.snapshot().length === 0, 5000, 'the worker out of routing');
      release();
      expect((await stream.next()).value).toBe('last');
      expect((await stream.next()).done).toBe(true);
    } finally {
      pool.stop();
      server.close();
      rmSync(runDir, {recursive: true, force: true});
    }
  });
});
