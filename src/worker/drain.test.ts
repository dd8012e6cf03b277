import {describe, expect, it} from 'vitest';
import {drainWorker} from './drain.js';

describe('drainWorker', () => {
  const status = {close() {}} as never;

  it('waits, once no request is in flight, until the request plane has written everything out', async () => {
    let flushed = false;
    setTimeout(() => (flushed = true), 80);
    const t0 = performance.now();
    await drainWorker({rpc: {close() {}, flushed: () => flushed}, status, inFlight: () => 0, drainMs: 5000});
    expect(flushed).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(70);
  });

  it('gives up at the deadline', async () => {
    const t0 = performance.now();
    await drainWorker({rpc: {close() {}, flushed: () => false}, status, inFlight: () => 1, drainMs: 100});
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
