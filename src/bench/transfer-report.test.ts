import {describe, expect, it, vi} from 'vitest';
import type {TransferBenchRow} from '../native/transfer-bench.js';
import {transferBenchReport, transferVerdict} from './transfer-report.js';

const row = (backend: TransferBenchRow['backend'], bytes: number, ofMemcpy: number, ofShm?: number): TransferBenchRow => ({backend, layout: 'contiguous', bytes, blocks: Math.max(1, bytes >> 16), iterations: 10, gbps: 10, latencyUs: 100, memcpyGbps: 12, ofMemcpy, ...(ofShm === undefined ? {} : {ofShm})});

describe('the transfer bench report', () => {
  it('words the targets: worst shares in percent, met or NOT met, and what was not measured', () => {
    expect(transferVerdict({shmAtLeast1MiB: 0.934, ucxOfShmAtLeast1MiB: 0.812, met: true})).toBe('shm at ≥ 1 MiB vs memcpy: worst 93 %; ucx at ≥ 1 MiB vs shm: worst 81 % (targets ≥ 80 %): met');
    expect(transferVerdict({shmAtLeast1MiB: 0.5, met: false})).toBe('shm at ≥ 1 MiB vs memcpy: worst 50 %; ucx at ≥ 1 MiB vs shm: not measured (targets ≥ 80 %): NOT met');
  });

  it('says why cuda was not measured, asking the probe only for the text and only when no cuda row ran', () => {
    const probe = vi.fn(() => 'no NVIDIA driver');
    const report = transferBenchReport([row('shm', 1 << 20, 0.9), row('ucx', 1 << 20, 0.85, 0.95)], probe);
    expect(report.record).toMatchObject({bench: 'transfer', targets: {shmAtLeast1MiB: 0.9, ucxOfShmAtLeast1MiB: 0.95, met: true}});
    expect(probe).not.toHaveBeenCalled(); // --json prints the record alone
    const text = report.text();
    expect(text).toContain('shm at ≥ 1 MiB vs memcpy: worst 90 %; ucx at ≥ 1 MiB vs shm: worst 95 % (targets ≥ 80 %): met\ncuda: not measured (no NVIDIA driver)');
    expect(text.endsWith(JSON.stringify(report.record))).toBe(true);

    const withCuda = vi.fn(() => 'unused');
    expect(transferBenchReport([row('shm', 1 << 20, 0.9), row('cuda', 1 << 20, 0.7)], withCuda).text()).not.toContain('cuda: not measured');
    expect(withCuda).not.toHaveBeenCalled();
  });
});
