/**
 * `--goodput`: SLOs written as AIPerf writes them ("time_to_first_token:200 inter_token_latency:20")
 * or as vLLM does ("ttft:200 tpot:20"), read into the profile's `slo` keys (milliseconds).
 * Both tools' names are accepted so a command line copied from either works unchanged.
 */
import {UserError} from '../shared/errors.js';
import type {SloMetric} from './profile.js';

/** Every accepted metric name → the SLO key it sets. AIPerf's ITL is vLLM's TPOT (docs/bench.md). */
export const GOODPUT_NAMES: Readonly<Record<string, SloMetric>> = {
  ttft: 'ttftMs',
  time_to_first_token: 'ttftMs',
  ttst: 'ttstMs',
  time_to_second_token: 'ttstMs',
  tpot: 'tpotMs',
  inter_token_latency: 'tpotMs',
  itl: 'tpotMs',
  e2el: 'e2eMs',
  e2e: 'e2eMs',
  request_latency: 'e2eMs',
};

/** "ttft:500 tpot:50" (spaces or commas between pairs) → {ttftMs: 500, tpotMs: 50}; a later pair wins. */
export function goodputSlos(v: string): Partial<Record<SloMetric, number>> {
  const slos: Partial<Record<SloMetric, number>> = {};
  for (const part of v.split(/[\s,]+/).filter(Boolean)) {
    const [k, raw] = part.split(':');
    const key = GOODPUT_NAMES[k?.toLowerCase() ?? ''];
    const ms = Number(raw);
    if (!key || !(ms > 0)) throw new UserError(`--goodput: cannot read "${part}"`, `write metric:milliseconds pairs, e.g. "ttft:500 tpot:50" (metrics: ${Object.keys(GOODPUT_NAMES).join(', ')})`);
    slos[key] = ms;
  }
  return slos;
}
