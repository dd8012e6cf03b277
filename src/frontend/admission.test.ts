import {describe, expect, it} from 'vitest';
import {RouterQueue} from '../router/queue.js';
import type {WorkerSnapshot} from '../router/policy.js';
import {tokenCapacity} from './admission.js';

describe('token-capacity admission', () => {
  const workers: WorkerSnapshot[] = [
    {id: 'a', inFlight: 1, kvUsage: 0.1, maxNumBatchedTokens: 256},
    {id: 'b', inFlight: 2, kvUsage: 0.1},
  ];
  const pool = {snapshot: () => workers};

  it('sizes the queue at one engine step of prefill tokens for every worker (8192 for a worker that does not say)', () => {
    expect(tokenCapacity(pool, {maxInflight: 0, maxKvUsage: 1}).capacityTokens()).toBe(256 + 8192);
  });

  it('refuses when every worker is busy, or the queue is full, and not otherwise', async () => {
    expect(tokenCapacity(pool, {maxInflight: 2, maxKvUsage: 1}).overloaded(undefined)).toBeUndefined();
    expect(tokenCapacity(pool, {maxInflight: 1, maxKvUsage: 1}).overloaded(undefined)).toBe('every worker is past its busy thresholds');
    const admission = tokenCapacity(pool, {maxInflight: 0, maxKvUsage: 1});
    const queue = new RouterQueue(() => true, {recheckMs: 60_000, capacityTokens: admission.capacityTokens});
    const parked = queue.admit(8448);
    expect(admission.overloaded(queue)).toBe('the router queue is full');
    expect(tokenCapacity({snapshot: () => []}, {maxInflight: 1, maxKvUsage: 1}).overloaded(undefined)).toBeUndefined();
    void parked.catch(() => {});
  });
});
