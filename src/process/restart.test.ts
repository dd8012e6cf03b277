import {describe, expect, it} from 'vitest';
import {decideRestart} from './restart.js';

const policy = {maxRestarts: 3, backoffMs: 100, backoffMaxMs: 250, stableMs: 10_000};

describe('decideRestart', () => {
  it('backs off exponentially up to the cap', () => {
    expect(decideRestart(policy, 0, 5)).toEqual({restart: true, attempt: 1, delayMs: 100});
    expect(decideRestart(policy, 1, 5)).toEqual({restart: true, attempt: 2, delayMs: 200});
    expect(decideRestart(policy, 2, 5)).toEqual({restart: true, attempt: 3, delayMs: 250});
  });
  it('gives up after the limit of consecutive crashes', () => {
    expect(decideRestart(policy, 3, 5)).toMatchObject({restart: false});
  });
  it('starts counting again after the process was stable', () => {
    expect(decideRestart(policy, 3, 10_000)).toEqual({restart: true, attempt: 1, delayMs: 100});
  });
  it('never restarts when restarts are off', () => {
    expect(decideRestart({...policy, maxRestarts: 0}, 0, 1)).toMatchObject({restart: false});
  });
});
