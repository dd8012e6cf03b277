/**
 * The keys, shown in place of the table and detail pane while `?` is on, and the one-line key
 * hint at the bottom of the live view.
 */
import type {Seg} from './line.js';
import {SORT_LABELS, type SortKey} from './sort.js';

export function helpLines({width, sort, paused}: {width: number; sort: SortKey; paused: boolean}): Seg[][] {
  const keys: [string, string][] = [
    ['q, Ctrl-C', 'quit'],
    ['↑ ↓, k j', 'select a source (its details show below the table)'],
    ['s', `sort by the next column (now: ${SORT_LABELS[sort]})`],
    ['p', paused ? 'resume polling (now: paused)' : 'pause polling (the frame stays as it is)'],
    ['r', 'reset the window: rates and percentiles start over'],
    ['?', 'close this help'],
  ];
  const title = '── keys ';
  return [
    [{text: title + '─'.repeat(Math.max(0, width - title.length)), bold: true}],
    ...keys.map(([k, what]): Seg[] => [{text: `  ${k.padEnd(11)}`, bold: true}, {text: what}]),
  ];
}

export function keyHint(sort: SortKey, paused: boolean): Seg[] {
  return [
    {text: `? help  q quit  ↑↓ select  s sort: ${SORT_LABELS[sort]}  p ${paused ? 'resume' : 'pause'}  r reset`, color: 'gray'},
  ];
}
