import {describe, expect, it} from 'vitest';
import {native} from './index.js';
import {TransferAgent} from './transfer.js';
import {runTransferBench, transferBenchTable, transferBenchTargets} from './transfer-bench.js';

describe.skipIf(!native)('transfer benchmark', () => {
  it('measures every backend here on both layouts, each against its plain copy, with the bytes checked', () => {
    const sizes = [64 << 10, 1 << 20];
    const rows = runTransferBench({sizes, msPerRow: 5});
    const backends = ['shm', ...(TransferAgent.ucxMissing() === undefined ? ['ucx'] : []), 'tcp', ...(TransferAgent.cudaMissing() === undefined ? ['cuda'] : [])];
    expect(rows.map((r) => `${r.backend} ${r.layout} ${r.bytes}`)).toEqual(backends.flatMap((b) => ['contiguous', 'scattered'].flatMap((l) => sizes.map((s) => `${b} ${l} ${s}`))));
    for (const r of rows) {
      expect(r.iterations).toBeGreaterThanOrEqual(7);
      expect(r.gbps).toBeGreaterThan(0);
      expect(r.ofMemcpy).toBeGreaterThan(0);
      expect(r.ofShm === undefined).toBe(r.backend !== 'ucx');
    }
    const t = transferBenchTargets(rows);
    expect(t.shmAtLeast1MiB).toBeGreaterThan(0);
    expect(transferBenchTable(rows).split('\n')).toHaveLength(rows.length + 1);
  });

  it('judges the targets on the rows: shm against memcpy, ucx against shm, from 1 MiB', () => {
    const row = (backend: 'shm' | 'ucx', bytes: number, ofMemcpy: number, ofShm?: number) => ({backend, layout: 'contiguous' as const, bytes, blocks: 1, iterations: 7, gbps: 1, latencyUs: 1, memcpyGbps: 1, ofMemcpy, ...(ofShm ? {ofShm} : {})});
    expect(transferBenchTargets([row('shm', 1 << 16, 0.2), row('shm', 1 << 20, 0.9), row('ucx', 1 << 20, 0.5, 0.85)])).toEqual({shmAtLeast1MiB: 0.9, ucxOfShmAtLeast1MiB: 0.85, met: true});
    expect(transferBenchTargets([row('shm', 1 << 20, 0.9), row('ucx', 1 << 20, 0.5, 0.7)]).met).toBe(false);
    expect(transferBenchTargets([row('shm', 1 << 20, 0.79)]).met).toBe(false);
  });
});
