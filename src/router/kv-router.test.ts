import {describe, expect, it, vi} from 'vitest';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {applyWire, toWire} from '../kv/wire.js';
import {KvRouter} from './kv-router.js';

const workers = (n: number) => Array.from({length: n}, (_, i) => ({id: `w${i}`, inFlight: 0, kvUsage: 0}));
const prompt = (prefix: number, n: number, tail = 0) => [...Array.from({length: n}, (_, i) => prefix * 100_000 + i), ...Array.from({length: tail}, (_, i) => 900_000 + i)];

async function router(over: Partial<Parameters<typeof KvRouter.create>[0]> = {}) {
  let clock = 0;
  const r = await KvRouter.create({blockSize: 16, overlapWeight: 1, temperature: 0, useKvEvents: false, ttlMs: 120_000, maxTreeSize: 1 << 20, pruneTargetRatio: 0.8, now: () => clock, random: () => 0, ...over});
  return {r, tick: (ms: number) => (clock += ms)};
}

describe('KvRouter (approximate mode)', () => {
  it('sends requests that share a prefix to the worker that served it', async () => {
    const {r} = await router();
    const first = r.choose({id: 'a', tokens: prompt(1, 320)}, workers(4))!;
    r.done('a');
    // A different prefix goes elsewhere (emptier cache wins the tie).
    const other = r.choose({id: 'b', tokens: prompt(2, 320)}, workers(4))!;
    r.done('b');
    expect(other.workerId).not.toBe(first.workerId);
    const again = r.choose({id: 'c', tokens: prompt(1, 320, 40)}, workers(4))!;
    expect(again.workerId).toBe(first.workerId);
    expect(again.overlapBlocks).toBe(20);
  });

  it('spreads load: a busy worker loses to an idle one when the cache gain is small', async () => {
    const {r} = await router();
    const w = workers(2);
    const a = r.choose({id: 'a', tokens: prompt(1, 32)}, w)!; // 2 blocks cached on a
    // Keep a busy with a long pending prefill.
    r.choose({id: 'big', tokens: prompt(5, 4000)}, [{id: a.workerId, inFlight: 0, kvUsage: 0}]);
    const next = r.choose({id: 'b', tokens: prompt(1, 32, 16)}, w)!;
    expect(next.workerId).not.toBe(a.workerId);
  });

  it('forgets predictions after the TTL', async () => {
    const {r, tick} = await router({ttlMs: 5_000});
    const first = r.choose({id: 'a', tokens: prompt(1, 64)}, workers(2))!;
    r.done('a');
    expect(r.predictedBlocks(first.workerId)).toBe(4);
    tick(6_000);
    const later = r.choose({id: 'b', tokens: prompt(1, 64)}, workers(2))!;
    expect(later.overlapBlocks).toBe(0);
  });

  it('hashes only the new blocks of a prompt that continues an earlier one, to the same hashes as in full', async () => {
    const {r} = await router();
    const hashAll = vi.spyOn((r as unknown as {hasher: {hashAll: (t: ArrayLike<number>, p?: bigint) => unknown}}).hasher, 'hashAll');
    const turn1 = prompt(1, 100); // 6 full blocks, 4 tokens over
    r.choose({id: 'a', tokens: turn1}, workers(1));
    // The next turn shares the first 90 tokens (5 blocks and 10 tokens of the sixth), then goes on.
    const turn2 = [...turn1.slice(0, 90), ...Array.from({length: 70}, (_, i) => 700_000 + i)];
    r.choose({id: 'b', tokens: turn2, prefix: {tokens: turn1, length: 90}}, workers(1));
    expect(hashAll).toHaveBeenCalledTimes(2);
    expect(hashAll.mock.calls[1]![0].length).toBe(5 * 16); // blocks 5–9 of 10
    expect(hashAll.mock.calls[1]![1]).toBeTypeOf('bigint'); // chained after block 4
    r.done('a');
    r.done('b');
    // The same prompt hashed in full matches every block the continued one predicted.
    const whole = r.choose({id: 'c', tokens: [...turn2]}, workers(2))!;
    expect(whole).toEqual({workerId: 'w0', overlapBlocks: 10});
    // A prefix the router never routed (or has forgotten) is hashed in full.
    r.choose({id: 'd', tokens: prompt(3, 64), prefix: {tokens: prompt(3, 64), length: 64}}, workers(1));
    expect(hashAll.mock.calls[3]![0].length).toBe(64);
  });

  it('prunes to the target size, oldest predictions first', async () => {
    const {r, tick} = await router({maxTreeSize: 10, pruneTargetRatio: 0.5});
    r.choose({id: 'old', tokens: prompt(1, 96)}, [{id: 'w0', inFlight: 0, kvUsage: 0}]); // 6 blocks
    tick(10);
    r.choose({id: 'new', tokens: prompt(2, 96)}, [{id: 'w0', inFlight: 0, kvUsage: 0}]); // 6 more → 12 > 10
    expect(r.predictedBlocks('w0')).toBe(5);
    const probe = r.choose({id: 'p', tokens: prompt(2, 96)}, [{id: 'w0', inFlight: 0, kvUsage: 0}])!;
    expect(probe.overlapBlocks).toBe(5); // the newer prefix survived (its deepest block went first)
  });
});

describe('KvRouter (KV events)', () => {
  const stored = (tokens: number[], hasher: Awaited<ReturnType<typeof DynamoBlockHasher.create>>) => {
    const h = hasher.hashAll(tokens);
    return {type: 'stored' as const, blocks: Array.from(h.local, (l, i) => ({blockHash: h.sequence[i]!, tokensHash: l}))};
  };

  it('routes by what workers report, not by its own decisions', async () => {
    const {r} = await router({useKvEvents: true});
    const hasher = await DynamoBlockHasher.create(16);
    const p = prompt(3, 160);
    applyWire(toWire(stored(p, hasher)), r.eventSink!('w2'));
    const d = r.choose({id: 'a', tokens: [...p, 1, 2, 3]}, workers(4))!;
    expect(d).toEqual({workerId: 'w2', overlapBlocks: 10});
    r.done('a');
    // No prediction from that decision: only the event counts. A removal takes the blocks away.
    applyWire(toWire({type: 'removed', blockHashes: Array.from(hasher.hashAll(p).sequence).slice(5)}), r.eventSink!('w2'));
    expect(r.choose({id: 'b', tokens: p}, workers(4))).toEqual({workerId: 'w2', overlapBlocks: 5});
    r.removeWorker('w2');
    expect(r.choose({id: 'c', tokens: p}, workers(4))!.overlapBlocks).toBe(0);
  });
});

describe('KvRouter per-request overrides and queue gate', () => {
  it('overlap_score_weight 0 ignores the cache and balances decode load', async () => {
    const {r} = await router();
    const w = workers(2);
    const a = r.choose({id: 'a', tokens: prompt(1, 320)}, w)!;
    r.firstToken('a');
    const b = r.choose({id: 'b', tokens: prompt(1, 320)}, w)!;
    expect(b.workerId).toBe(a.workerId); // the cache wins by default
    r.firstToken('b');
    // Weight 0: both workers cost 20 decode blocks (shared active ones on a, new ones elsewhere);
    // the tie goes to the emptier cache.
    const c = r.choose({id: 'c', tokens: prompt(1, 320), overrides: {overlapWeight: 0}}, w)!;
    expect(c.workerId).not.toBe(a.workerId);
  });

  it('assume_kv_reuse false counts every block of the request as new load', async () => {
    const {r} = await router();
    const w = workers(2);
    const a = r.choose({id: 'a', tokens: prompt(1, 320)}, w)!;
    r.firstToken('a');
    // Same prefix: with reuse its 20 active blocks are shared on a; without, they are 20 more.
    const reuse = r.choose({id: 'b', tokens: prompt(1, 320)}, w)!;
    r.done('b');
    const noReuse = r.choose({id: 'c', tokens: prompt(1, 320), overrides: {assumeKvReuse: false, overlapWeight: 0}}, w)!;
    expect(reuse.workerId).toBe(a.workerId);
    expect(noReuse.workerId).not.toBe(a.workerId);
  });

  it('is saturated only when every worker has more pending prefill than threshold × its step budget', async () => {
    const {r} = await router();
    const w = [
      {id: 'w0', inFlight: 0, kvUsage: 0, maxNumBatchedTokens: 100},
      {id: 'w1', inFlight: 0, kvUsage: 0, maxNumBatchedTokens: 100},
    ];
    r.choose({id: 'a', tokens: prompt(1, 500)}, [w[0]!]);
    expect(r.saturated(w, 4)).toBe(false);
    r.choose({id: 'b', tokens: prompt(2, 500)}, [w[1]!]);
    expect(r.saturated(w, 4)).toBe(true);
    expect(r.saturated(w, 0)).toBe(false); // 0 = queue off
    r.firstToken('b'); // b's prefill is done: w1 has room again
    expect(r.saturated(w, 4)).toBe(false);
  });
});
