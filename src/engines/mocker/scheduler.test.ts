import {beforeAll, describe, expect, it} from 'vitest';
import type {BlockHasher} from '../../kv/block-hasher.js';
import {DynamoBlockHasher} from '../../kv/dynamo-hash.js';
import {KvBlockManager} from './kv-blocks.js';
import {polynomialModel} from './perf-model.js';
import {type MockRequest, MockScheduler, type TokenOutput} from './scheduler.js';

function request(id: string, prompt: number[], maxTokens: number, extra: Partial<MockRequest> = {}): MockRequest {
  let n = 0;
  return {id, prompt, maxTokens, nextToken: () => 1000 + n++, ...extra};
}
const range = (n: number, from = 0) => Array.from({length: n}, (_, i) => from + i);

/** Runs the scheduler to completion on a virtual clock; returns outputs and the clock. */
function drain(s: MockScheduler) {
  let clock = 0;
  const outputs: (TokenOutput & {at: number})[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    const step = s.schedule();
    if (!step) break;
    clock += step.durationMs;
    for (const o of s.complete(step)) outputs.push({...o, at: clock});
  }
  return {outputs, clock};
}

const hashers = new Map<number, BlockHasher>();
beforeAll(async () => {
  for (const bs of [4, 16]) hashers.set(bs, await DynamoBlockHasher.create(bs));
});

const setup = (blocks = 1000, bs = 16, maxNumSeqs = 256, maxNumBatchedTokens = 8192) => {
  const kv = new KvBlockManager(blocks, bs);
  return {kv, s: new MockScheduler({blocks: kv, maxNumSeqs, maxNumBatchedTokens, perf: polynomialModel(), hasher: hashers.get(bs)!})};
};

describe('MockScheduler', () => {
  it('generates exactly max_tokens and finishes with length', () => {
    const {s} = setup();
    s.add(request('a', range(100), 5));
    const {outputs} = drain(s);
    expect(outputs.map((o) => o.token)).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(outputs.at(-1)!.finish).toBe('length');
  });

  it('stops at EOS unless told to ignore it', () => {
    const {s} = setup();
    s.add(request('a', range(10), 50, {eosTokenId: 1002}));
    s.add(request('b', range(10, 500), 5, {eosTokenId: 1002, ignoreEos: true}));
    const {outputs} = drain(s);
    const a = outputs.filter((o) => o.id === 'a');
    expect(a).toHaveLength(3);
    expect(a.at(-1)!.finish).toBe('stop');
    expect(outputs.filter((o) => o.id === 'b')).toHaveLength(5);
  });

  it('returns every block after any mix of requests (free + cached = total)', () => {
    const {s, kv} = setup(200, 16, 8, 256);
    for (let i = 0; i < 30; i++) s.add(request(`r${i}`, range(40 + 37 * (i % 7), (i % 3) * 10_000), 1 + (i % 11)));
    s.cancel('r3');
    drain(s);
    expect(s.idle).toBe(true);
    expect(kv.activeBlocks).toBe(0);
    expect(kv.freeBlocks + kv.inactiveBlocks).toBe(200);
  });

  it('serves a repeated prompt prefix from the cache and reports the cached tokens', () => {
    const {s} = setup();
    const prompt = range(100);
    s.add(request('first', prompt, 2));
    drain(s);
    s.add(request('second', [...prompt, 7, 8, 9], 2));
    const {outputs} = drain(s);
    expect(outputs[0]!.cachedTokens).toBe(96); // six full blocks of 16
    expect(s.counters.prefixHitTokens).toBe(96);
    expect(s.counters.prefixQueryTokens).toBe(203);
  });

  it('chunks a long prefill across steps within the token budget', () => {
    const {s} = setup(1000, 16, 256, 512);
    s.add(request('long', range(2000), 1));
    let steps = 0;
    for (let step = s.schedule(); step; step = s.schedule()) {
      expect(step.prefillTokens).toBeLessThanOrEqual(512);
      s.complete(step);
      steps++;
    }
    expect(steps).toBe(4);
  });

  it('preempts the latest sequence when decode runs out of blocks, and still completes everything', () => {
    const {s, kv} = setup(12, 4, 8, 64);
    for (let i = 0; i < 4; i++) s.add(request(`r${i}`, range(8, i * 100), 12));
    const {outputs} = drain(s);
    expect(s.counters.preemptions).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect(outputs.filter((o) => o.id === `r${i}`)).toHaveLength(12);
    expect(kv.activeBlocks).toBe(0);
  });

  it('times steps by the performance model: TTFT of a lone 1000-token prompt is prefill(1000)', () => {
    const {s} = setup();
    s.add(request('a', range(1000), 3));
    const {outputs} = drain(s);
    const perf = polynomialModel();
    expect(outputs[0]!.at).toBeCloseTo(perf.prefillMs(1000), 6);
    // Then one decode step per token at the current KV usage: 62 full blocks + 1 partial of 16.
    expect(outputs[1]!.at - outputs[0]!.at).toBeCloseTo(perf.decodeMs(63 / 1000), 6);
  });

  it('runs quiet steps at once exactly as one step each (same tokens, KV, clock)', () => {
    const run = (quiet: boolean) => {
      const {kv, s} = setup(60, 4);
      for (const [id, len, max] of [['a', 10, 40], ['b', 13, 25], ['c', 6, 60]] as const) s.add(request(id, range(len, len), max, {ignoreEos: true}));
      let clock = 0;
      let steps = 0;
      const tokens = new Map<string, number>();
      for (;;) {
        const k = quiet ? s.quietSteps() : 0;
        if (k > 0) {
          const d = s.quietStepMs();
          for (let i = 0; i < k; i++) clock += d;
          for (const r of s.runQuiet(k)) tokens.set(r.id, (tokens.get(r.id) ?? 0) + k);
          steps += k;
          continue;
        }
        const step = s.schedule();
        if (!step) break;
        clock += step.durationMs;
        steps++;
        for (const o of s.complete(step)) tokens.set(o.id, (tokens.get(o.id) ?? 0) + 1);
      }
      return {clock, steps, tokens: [...tokens], counters: {...s.counters}, cached: kv.evictionOrder()};
    };
    const stepped = run(false);
    expect(run(true)).toEqual(stepped);
    expect(stepped.tokens).toEqual([['a', 40], ['b', 25], ['c', 60]]);
  });

  it('gives each quiet step\'s tokens, in order, as stepping one at a time does (what the real-time loop streams)', () => {
    const run = (quiet: boolean) => {
      const {kv, s} = setup(60, 4);
      for (const [id, len, max] of [['a', 10, 40], ['b', 13, 25], ['c', 6, 60]] as const) s.add(request(id, range(len, len), max, {ignoreEos: true}));
      const outputs: TokenOutput[] = [];
      let quietRuns = 0;
      for (;;) {
        const k = quiet ? s.quietSteps() : 0;
        if (k > 0) {
          quietRuns++;
          outputs.push(...s.runQuietTokens(k));
          continue;
        }
        const step = s.schedule();
        if (!step) break;
        outputs.push(...s.complete(step));
      }
      const byRequest = (id: string) => outputs.filter((o) => o.id === id);
      return {a: byRequest('a'), b: byRequest('b'), c: byRequest('c'), quietRuns, counters: {...s.counters}, cached: kv.evictionOrder()};
    };
    const stepped = run(false);
    const quiet = run(true);
    expect(quiet.quietRuns).toBeGreaterThan(3);
    expect({...quiet, quietRuns: 0}).toEqual({...stepped, quietRuns: 0});
    expect(stepped.a.map((o) => o.finish).filter(Boolean)).toEqual(['length']);
  });
});
