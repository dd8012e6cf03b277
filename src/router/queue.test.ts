import {describe, expect, it} from 'vitest';
import {QueueFull, RouterQueue} from './queue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('RouterQueue', () => {
  it('admits at once while the workers have room', async () => {
    const q = new RouterQueue(() => false);
    await q.admit(100);
    expect(q.pending).toBe(0);
  });

  it('parks requests while every worker is saturated and releases them in arrival order, one per load change', async () => {
    let load = 10;
    const q = new RouterQueue(() => load > 5, {recheckMs: 60_000});
    const order: number[] = [];
    const waits = [1, 2, 3].map((i) => q.admit(100).then(() => order.push(i)));
    await tick();
    expect(q.pending).toBe(3);
    q.wake(); // still saturated
    await tick();
    expect(order).toEqual([]);
    load = 0;
    q.wake();
    await tick();
    expect(order).toEqual([1]);
    // Request 1 was routed and saturates the workers again: 2 and 3 keep waiting.
    load = 10;
    q.wake();
    await tick();
    expect(order).toEqual([1]);
    load = 0;
    q.wake();
    q.wake();
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it('keeps arrival order: a new request does not overtake waiting ones even when there is room', async () => {
    let load = 10;
    const q = new RouterQueue(() => load > 5, {recheckMs: 60_000});
    const first = q.admit(100);
    load = 0;
    let overtook = false;
    void q.admit(100).then(() => (overtook = true));
    await tick();
    expect(overtook).toBe(false);
    q.wake();
    await first;
  });

  it('drops a cancelled request from the queue', async () => {
    const q = new RouterQueue(() => true, {recheckMs: 60_000});
    const ac = new AbortController();
    const p = q.admit(100, ac.signal);
    ac.abort(new Error('client gone'));
    await expect(p).rejects.toThrow('client gone');
    expect(q.pending).toBe(0);
  });

  it('with a capacity, refuses at once a request that would overflow it, and frees the room of those that leave', async () => {
    let load = 10;
    const q = new RouterQueue(() => load > 5, {recheckMs: 60_000, capacityTokens: () => 250});
    const a = q.admit(100);
    const b = q.admit(100);
    await expect(q.admit(100)).rejects.toBeInstanceOf(QueueFull);
    expect([q.pending, q.pendingTokens]).toEqual([2, 200]);
    const c = q.admit(50); // exactly full
    load = 0;
    q.wake();
    await a;
    expect(q.pendingTokens).toBe(150);
    const d = q.admit(100); // fits again, behind b and c
    expect(q.pendingTokens).toBe(250);
    q.wake();
    q.wake();
    q.wake();
    await Promise.all([b, c, d]);
    expect(q.pendingTokens).toBe(0);
  });

  it('rechecks periodically when no load change arrives', async () => {
    let load = 10;
    const q = new RouterQueue(() => load > 5, {recheckMs: 10});
    const p = q.admit(100);
    load = 0;
    await p;
  });
});
