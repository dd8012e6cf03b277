import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {allocatorKeepsFreedMemory, preTouchHeap} from './pre-touch.js';

/** The process's peak resident memory (VmHWM), in MB. */
function peakRssMb(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  return Number(kb) / 1024;
}

describe('pre-touching the heap', () => {
  it('touches about as much memory as asked, and then lets it go', async () => {
    const before = peakRssMb();
    let collected = 0;
    await preTouchHeap(48, () => collected++);
    // Resident at its peak: the pages were written, not only reserved. (Under node, V8's
    // compressed pointers make each step about half what it is in JSC, which the size assumes.)
    expect(peakRssMb() - before).toBeGreaterThan(16);
    expect(collected).toBe(1);
  });

  it('runs only where freed memory stays: the binary with the purge turned off', () => {
    expect(allocatorKeepsFreedMemory({MIMALLOC_PURGE_DELAY: '-1'}, true)).toBe(true);
    expect(allocatorKeepsFreedMemory({}, true)).toBe(false);
    expect(allocatorKeepsFreedMemory({MIMALLOC_PURGE_DELAY: '10'}, true)).toBe(false);
    expect(allocatorKeepsFreedMemory({MIMALLOC_PURGE_DELAY: '-1'}, false)).toBe(false);
  });
});
