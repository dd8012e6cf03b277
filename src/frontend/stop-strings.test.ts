import {describe, expect, it} from 'vitest';
import {StopMatcher} from './stop-strings.js';

const run = (stops: string[], pieces: string[]) => {
  const m = new StopMatcher(stops);
  let out = '';
  for (const p of pieces) {
    const r = m.push(p);
    out += r.emit;
    if (r.stopped) return {out, stopped: true};
  }
  return {out: out + m.flush(), stopped: false};
};

describe('StopMatcher', () => {
  it('stops before a stop string split across pieces and never emits it', () => {
    expect(run(['END'], ['hello E', 'N', 'D more'])).toEqual({out: 'hello ', stopped: true});
  });
  it('releases held text once it cannot be a stop string', () => {
    expect(run(['END'], ['an E', 'xample'])).toEqual({out: 'an Example', stopped: false});
  });
  it('stops at the earliest of several stop strings', () => {
    expect(run(['\n\n', 'b.'], ['a b. c\n\n'])).toEqual({out: 'a ', stopped: true});
  });
  it('passes everything through with no stop strings', () => {
    expect(run([], ['x', 'y'])).toEqual({out: 'xy', stopped: false});
  });
});
