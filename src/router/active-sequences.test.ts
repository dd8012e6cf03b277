import {describe, expect, it} from 'vitest';
import {ActiveSequences} from './active-sequences.js';

describe('ActiveSequences', () => {
  it('tracks pending prefill until the first token, and shared blocks once', () => {
    const a = new ActiveSequences();
    a.add('r1', 'w', [1, 2, 3], 48);
    a.add('r2', 'w', [1, 2, 9], 48);
    expect(a.pendingPrefillTokens('w')).toBe(96);
    expect(a.activeBlocks('w')).toBe(4);
    a.add('r3', 'x', [1], 16);
    expect(a.sharedBlocks([1, 2, 7])).toEqual(new Map([['w', 2], ['x', 1]]));
    a.free('r3');
    a.prefillDone('r1');
    expect(a.pendingPrefillTokens('w')).toBe(48);
    a.free('r1');
    expect(a.activeBlocks('w')).toBe(3);
    a.free('r2');
    a.free('r2');
    expect(a.activeBlocks('w')).toBe(0);
    expect(a.pendingPrefillTokens('w')).toBe(0);
    expect(a.inFlight).toBe(0);
  });
});
