import {describe, expect, it} from 'vitest';
import {type KvCandidate, scoreWorkersKv, selectKvWorker} from './kv-cost.js';

const cand = (id: string, c: Partial<KvCandidate>): KvCandidate => ({id, overlapBlocks: 0, activePrefillTokens: 0, activeBlocks: 0, newBlocks: 0, treeSize: 0, ...c});

describe('KV cost (Dynamo selector)', () => {
  it("reproduces Dynamo's worked example: W1 = 18, W2 = 10 (chosen), W3 = 11", () => {
    // 10-block request (B = 16, isl = 160), weight 1.
    const scores = scoreWorkersKv(
      [
        cand('W1', {overlapBlocks: 2, activeBlocks: 0, newBlocks: 10}), // prefill 8 blocks + decode 10
        cand('W2', {overlapBlocks: 5, activeBlocks: 2, newBlocks: 3}), // prefill 5 + decode 5
        cand('W3', {overlapBlocks: 8, activeBlocks: 4, newBlocks: 5}), // prefill 2 + decode 9
      ],
      {isl: 160, blockSize: 16, overlapWeight: 1},
    );
    expect(scores.map((s) => [s.id, s.logit])).toEqual([
      ['W1', 18],
      ['W2', 10],
      ['W3', 11],
    ]);
    expect(selectKvWorker(scores, 0)!.id).toBe('W2');
  });

  it('counts pending prefill tokens and leaves prefill blocks fractional', () => {
    const [s] = scoreWorkersKv([cand('w', {overlapBlocks: 1, activePrefillTokens: 24})], {isl: 40, blockSize: 16, overlapWeight: 2});
    expect(s!.prefillBlocks).toBe(3); // (24 + 40 − 16) / 16
    expect(s!.logit).toBe(6);
    const [off] = scoreWorkersKv([cand('w', {overlapBlocks: 1, activePrefillTokens: 24})], {isl: 40, blockSize: 16, overlapWeight: 2, trackPrefillTokens: false});
    expect(off!.prefillBlocks).toBe(1.5);
  });

  it('breaks ties by the smaller cache, then at random', () => {
    const tie = scoreWorkersKv([cand('a', {treeSize: 9}), cand('b', {treeSize: 3}), cand('c', {treeSize: 3})], {isl: 16, blockSize: 16, overlapWeight: 1});
    expect(selectKvWorker(tie, 0, () => 0)!.id).toBe('b');
    expect(selectKvWorker(tie, 0, () => 0.99)!.id).toBe('c');
  });

  it('samples by softmax when the temperature is above zero', () => {
    const scores = scoreWorkersKv([cand('cheap', {overlapBlocks: 10}), cand('dear', {overlapBlocks: 0})], {isl: 160, blockSize: 16, overlapWeight: 1});
    // logits 0 and 10: p(cheap) = 1/(1+e^-1) ≈ 0.731 at T = 1.
    let cheap = 0;
    let x = 0;
    const random = () => ((x = (x * 9301 + 49297) % 233280) / 233280);
    for (let i = 0; i < 20_000; i++) if (selectKvWorker(scores, 1, random)!.id === 'cheap') cheap++;
    expect(cheap / 20_000).toBeCloseTo(1 / (1 + Math.exp(-1)), 1);
    expect(selectKvWorker(scores, 1, () => 0.999)!.id).toBe('dear');
  });
});
