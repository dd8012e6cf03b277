/**
 * The detail pane for the selected source: its last minute as wide sparklines (output tokens/s and
 * KV usage, one column per refresh, so ceil(60 / interval) columns when the width allows), its
 * TTFT/ITL p50/p90/p99 and requests/s, its metrics URL and log file, why it is down, and for an
 * endpoint top does not recognise, the metric families it does understand there.
 */
import type {Percentiles, SourceView, TopSnapshot} from '../top/snapshot.js';
import {fmtInt, fmtMs, fmtNum, fmtPct, padEnd, widthOf} from './format.js';
import {packGroups, type Seg} from './line.js';
import {sparkline} from './sparkline.js';
import {kvHue, stateHue, stateText} from './worker-table.js';

const LABEL = 11;

const pcts = (label: string, p?: Percentiles) =>
  `${label} p50 ${fmtMs(p?.p50)} p90 ${fmtMs(p?.p90)} p99 ${fmtMs(p?.p99)}`;

/** How many refreshes make the last minute, and how many of them the width shows. */
export function detailSparkWidth(intervalS: number, width: number): number {
  const minute = Math.ceil(60 / Math.max(intervalS, 0.001));
  return Math.max(0, Math.min(minute, width - LABEL - 22));
}

function sparkRow(label: string, values: readonly (number | null)[], spark: number, now: Seg, max?: number): Seg[] {
  return [{text: padEnd(label, LABEL)}, {text: sparkline(values, spark, max)}, {text: '  now '}, now];
}

/** Every line of the pane, first to last. */
export function detailLines(snapshot: TopSnapshot, s: SourceView, width: number): Seg[][] {
  const rule = `── ${s.id} · ${s.role ?? s.kind} · ${s.kind} · ${s.host ?? 'host –'} `;
  const spark = detailSparkWidth(snapshot.intervalS, width);
  const span = Math.round(spark * snapshot.intervalS);
  const lines: Seg[][] = [
    [{text: rule + '─'.repeat(Math.max(0, width - widthOf(rule))), bold: true}],
    [
      {text: 'state '},
      {text: stateText(s, snapshot.at, true), color: stateHue(s.state)},
      ...(s.error ? [{text: ` — ${s.error}`, color: 'red' as const}] : []),
      {text: ` · restarts ${fmtInt(s.restarts)}`},
    ],
    [{text: `metrics ${s.url}`}],
    [{text: `log     ${s.logFile ?? '–'}`}],
    ...packGroups(
      [
        [{text: `req/s ${fmtNum(s.requestsPerS, 100)} · in ${fmtNum(s.inputTokensPerS)} tok/s`}],
        [{text: pcts('TTFT', s.ttftMs)}],
        [{text: pcts('ITL', s.itlMs)}],
      ],
      width,
    ),
  ];
  const history = s.history.outputTokensPerS.length + s.history.kvUsage.length > 0;
  if (!history) lines.push([{text: 'no history yet', color: 'gray'}]);
  else if (spark >= 4) {
    lines.push(
      sparkRow('out tok/s', s.history.outputTokensPerS, spark, {text: fmtNum(s.outputTokensPerS)}),
      sparkRow('KV usage', s.history.kvUsage, spark, {text: fmtPct(s.kvUsage), color: kvHue(s.kvUsage)}, 1),
      [{text: padEnd('', LABEL) + `last ${span} s, one column per ${snapshot.intervalS} s`, color: 'gray'}],
    );
  }
  if (s.kind === 'unknown') {
    const families = s.understood.map((f, i) => [{text: i < s.understood.length - 1 ? `${f},` : f}]);
    lines.push(
      ...(s.understood.length
        ? packGroups([[{text: 'top understands here:'}], ...families], width, ' ')
        : [[{text: 'nothing here that top understands (it reads vLLM, SGLang and Dynamo metrics)', color: 'yellow' as const}]]),
    );
  }
  return lines;
}
