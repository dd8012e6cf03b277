/**
 * The header: what is watched (deployment name, model and uptime, or the URLs), window, interval
 * and a PAUSED marker on the first line; then the cluster totals in groups (throughput, in flight
 * and queues, latency, prefix cache, errors) packed greedily into as few lines as the width allows
 * (four at 80 columns, two at 200); the disaggregation line last, when there is one.
 * Unknown figures show "–". Errors are red and rejections yellow when above zero.
 */
import type {TopSnapshot} from '../top/snapshot.js';
import {clip, fmtDuration, fmtInt, fmtMs, fmtNum, fmtPct, widthOf} from './format.js';
import {packGroups, type Seg} from './line.js';

const TITLE = 'dynamo top';

/** "demo · Qwen/Qwen3-0.6B · up 1 h 2 m", or the watched URLs (no scheme, no "/metrics"). */
export function watchedLabel(snap: TopSnapshot): string {
  const d = snap.deployment;
  if (d) return `${d.name} · ${d.model} · up ${fmtDuration(snap.at - d.startedAt)}`;
  const urls = [...new Set(snap.sources.map((s) => s.url.replace(/^https?:\/\//, '').replace(/\/metrics$/, '')))];
  if (!urls.length) return 'no sources';
  return urls.length <= 2 ? urls.join(', ') : `${urls[0]} +${urls.length - 1} more`;
}

/** "dynamo top · <what>" left, window, interval and PAUSED right; the left side is cut first. */
export function titleSegs(snap: TopSnapshot, width: number): Seg[] {
  const right: Seg[] = [{text: `window ${snap.windowS} s · every ${snap.intervalS} s`}];
  if (snap.paused) right.push({text: ' '}, {text: 'PAUSED', color: 'yellow', inverse: true});
  const rightWidth = right.reduce((n, s) => n + widthOf(s.text), 0);
  const label = ` · ${clip(watchedLabel(snap), width - rightWidth - TITLE.length - 5)}`;
  const pad = ' '.repeat(Math.max(2, width - TITLE.length - widthOf(label) - rightWidth));
  return [{text: TITLE, bold: true}, {text: label}, {text: pad}, ...right];
}

/** The totals as groups of segments, in reading order. */
export function totalsGroups(snap: TopSnapshot): Seg[][] {
  const t = snap.totals;
  const pct = (label: string, p?: {p50?: number; p99?: number}) =>
    `${label} p50 ${fmtMs(p?.p50)} p99 ${fmtMs(p?.p99)}`;
  return [
    [
      {
        text: `req/s ${fmtNum(t.requestsPerS, 100)} · in ${fmtNum(t.inputTokensPerS)} tok/s · out ${fmtNum(t.outputTokensPerS)} tok/s`,
      },
    ],
    [
      {
        text:
          `in flight ${fmtInt(t.inFlight)} · queued ${fmtInt(t.queued)}` +
          (snap.routerQueue === undefined ? '' : ` · router queue ${fmtInt(snap.routerQueue)}`),
      },
    ],
    [{text: `${pct('TTFT', t.ttftMs)} · ${pct('ITL', t.itlMs)}`}],
    [{text: `prefix hit router ${fmtPct(t.hitRate.router)} · workers ${fmtPct(t.hitRate.workers)}`}],
    [
      {text: 'errors/s '},
      {text: fmtNum(t.errorsPerS), color: t.errorsPerS ? 'red' : undefined},
      {text: ' · 503/529/s '},
      {text: fmtNum(t.rejectedPerS), color: t.rejectedPerS ? 'yellow' : undefined},
    ],
  ];
}

export function disaggText(snap: TopSnapshot): string | undefined {
  if (!snap.disagg) return undefined;
  const {transferTokensPerS, transferQueue} = snap.disagg;
  return `disagg prefill → decode · transfer ${fmtNum(transferTokensPerS)} tok/s · queue ${fmtInt(transferQueue)}`;
}

/** Every header line, first to last. */
export function headerLines(snap: TopSnapshot, width: number): Seg[][] {
  const disagg = disaggText(snap);
  return [titleSegs(snap, width), ...packGroups(totalsGroups(snap), width), ...(disagg ? [[{text: disagg}]] : [])];
}
