import {describe, expect, it} from 'vitest';
import {UserError} from '../shared/errors.js';
import {goodputSlos} from './goodput.js';

describe('--goodput', () => {
  it('reads vLLM names into SLOs in milliseconds', () => {
    expect(goodputSlos('ttft:500 tpot:50 e2el:8000')).toEqual({ttftMs: 500, tpotMs: 50, e2eMs: 8000});
  });

  it('reads AIPerf names the same way, in any case and separated by commas', () => {
    expect(goodputSlos('time_to_first_token:200,inter_token_latency:20')).toEqual({ttftMs: 200, tpotMs: 20});
    expect(goodputSlos('TTST:30  request_latency:900 itl:7.5')).toEqual({ttstMs: 30, e2eMs: 900, tpotMs: 7.5});
  });

  it('sets nothing for an empty value', () => {
    expect(goodputSlos('  ')).toEqual({});
  });

  it('refuses an unknown metric, a missing or non-positive limit, and says how to write it', () => {
    for (const bad of ['latency=3', 'latency:3', 'ttft', 'ttft:abc', 'tpot:0', 'e2e:-5']) {
      let thrown: unknown;
      try {
        goodputSlos(`ttft:100 ${bad}`);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(UserError);
      expect((thrown as UserError).message).toBe(`--goodput: cannot read "${bad}"`);
      expect((thrown as UserError).hint).toMatch(/^write metric:milliseconds pairs, e\.g\. "ttft:500 tpot:50" \(metrics: ttft, time_to_first_token, .*request_latency\)$/);
    }
  });
});
