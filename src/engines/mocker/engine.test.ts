import {beforeAll, describe, expect, it} from 'vitest';
import type {BlockHasher} from '../../kv/block-hasher.js';
import {DynamoBlockHasher} from '../../kv/dynamo-hash.js';
import {MockerEngine} from './engine.js';
import {KvBlockManager} from './kv-blocks.js';
import {polynomialModel} from './perf-model.js';
import {MockScheduler} from './scheduler.js';

let hasher: BlockHasher;
beforeAll(async () => {
  hasher = await DynamoBlockHasher.create(16);
});

function engine(speedup: number) {
  const blocks = new KvBlockManager(4096, 16);
  return {blocks, engine: new MockerEngine(new MockScheduler({blocks, maxNumSeqs: 64, maxNumBatchedTokens: 8192, perf: polynomialModel(), hasher}), speedup)};
}
const req = (id: string, n: number, maxTokens: number, first = 0) => {
  let t = 0;
  return {id, prompt: Array.from({length: n}, (_, i) => first + i), maxTokens, nextToken: () => 500 + t++};
};

describe('MockerEngine', () => {
  // Wall-clock check of the real-time loop (the model itself is checked exactly on a virtual clock in
  // scheduler.test.ts). A shared machine can delay timers, so it may retry; it never runs early.
  it('follows the performance model in real time within 5 % (speedup 1)', {retry: 3}, async () => {
    const {engine: e} = engine(1);
    const perf = polynomialModel();
    // First use compiles the hot paths. Its tokens share no prefix with the measured prompt, whose
    // prefill would otherwise start from the warm-up's cached blocks.
    for await (const _ of e.generate(req('warm-up', 64, 2, 100_000))) {
    }
    // 4000-token prompt: prefill ≈ 84 ms; then 10 decode steps ≈ 6.9 ms each.
    const t0 = performance.now();
    let ttft = 0;
    let n = 0;
    for await (const c of e.generate(req('a', 4000, 11))) {
      if (!n) ttft = performance.now() - t0;
      n += c.tokenIds.length;
    }
    const total = performance.now() - t0;
    const expectedTtft = perf.prefillMs(4000);
    const expectedTotal = expectedTtft + 10 * perf.decodeMs(250 / 4096);
    expect(ttft).toBeGreaterThanOrEqual(expectedTtft * 0.99);
    expect(Math.abs(ttft - expectedTtft) / expectedTtft).toBeLessThan(0.05);
    expect(Math.abs(total - expectedTotal) / expectedTotal).toBeLessThan(0.05);
    expect(n).toBe(11);
  });

  it('runs as fast as possible with an infinite speedup, and streams every request to completion', async () => {
    const {engine: e, blocks} = engine(Number.POSITIVE_INFINITY);
    const results = await Promise.all(
      Array.from({length: 20}, async (_, i) => {
        let n = 0;
        for await (const c of e.generate(req(`r${i}`, 100 + i * 50, 30))) n += c.tokenIds.length;
        return n;
      }),
    );
    expect(results.every((n) => n === 30)).toBe(true);
    expect(blocks.activeBlocks).toBe(0);
  });

  it('frees a cancelled request at once', async () => {
    const {engine: e, blocks} = engine(1);
    const ac = new AbortController();
    let got = 0;
    for await (const c of e.generate(req('x', 500, 1000), ac.signal)) {
      got += c.tokenIds.length;
      if (got >= 3) ac.abort();
    }
    expect(e.inFlight).toBe(0);
    expect(blocks.activeBlocks).toBe(0);
  });
});
