import {describe, expect, it} from 'vitest';
import {mergeChunks} from './migration.js';

describe('chunks that arrived together', () => {
  it('merge into one: tokens in order, the first cache report, the last finish and hand-off', () => {
    const one = {tokenIds: [1], cachedTokens: 16};
    expect(mergeChunks([one])).toBe(one);
    const handoff = {worker: 'p0'} as never;
    expect(mergeChunks([{tokenIds: [1, 2], cachedTokens: 16}, {tokenIds: [3]}, {tokenIds: [4], cachedTokens: 99, finishReason: 'length', kvTransfer: handoff}])).toEqual({
      tokenIds: [1, 2, 3, 4],
      cachedTokens: 16,
      finishReason: 'length',
      kvTransfer: handoff,
    });
  });
});
