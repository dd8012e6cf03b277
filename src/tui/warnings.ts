/**
 * The last few warnings (sources that went down or came back, restarts, workers that left
 * discovery), newest last, each with its time of day. Yellow in colour; nothing when there are none.
 */
import type {TopWarning} from '../top/snapshot.js';
import {fmtClock} from './format.js';
import type {Seg} from './line.js';

/** How many warnings the frame shows by default. */
export const WARNINGS_SHOWN = 3;

export function warningLines(warnings: readonly TopWarning[], max = WARNINGS_SHOWN): Seg[][] {
  return warnings.slice(-max).map((w) => [{text: `${fmtClock(w.at)}  ${w.text}`, color: 'yellow'}]);
}
