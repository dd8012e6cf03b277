/**
 * The worker table: one row per source, in the order of `sort`, the selected one marked "›" (and
 * highlighted in colour). Columns follow the width (see layout.ts). Colours carry meaning only:
 * state (up green, starting yellow, down red), KV usage from 80% yellow and from 95% red, restarts
 * yellow when there were any.
 */
import type {SourceView, TopSnapshot} from '../top/snapshot.js';
import {DASH, fmtClock, fmtDuration, fmtInt, fmtNum, fmtPct, padEnd, padStart} from './format.js';
import {type Column, type ColumnId, GAP, MARKER_WIDTH, planColumns, WIDE_STATE_AT} from './layout.js';
import type {Hue, Seg} from './line.js';
import type {SortKey} from './sort.js';
import {sparkline} from './sparkline.js';

export const KV_WARN = 0.8;
export const KV_HIGH = 0.95;

export interface WorkerTableInput {
  snapshot: TopSnapshot;
  /** The snapshot's sources in the order of `sort` (sortSources). */
  sorted: readonly SourceView[];
  width: number;
  sort: SortKey;
  /** Id of the selected source; none is marked when undefined or gone. */
  selected?: string;
  /** Most lines the table may take, heading included; rows scroll around the selection. */
  maxLines?: number;
}

/** Which column each sort key marks with "▼". */
const SORT_COLUMN: Record<SortKey, ColumnId> = {
  role: 'role',
  id: 'id',
  state: 'state',
  running: 'running',
  waiting: 'waiting',
  kv: 'kv',
  hitRate: 'hitRate',
  tokens: 'tokens',
  restarts: 'restarts',
};

const KIND_LABEL = {
  'dynamo-frontend': 'frontend',
  'dynamo-worker': 'worker',
  vllm: 'vllm',
  sglang: 'sglang',
  unknown: 'unknown',
} as const;

export const kvHue = (v: number | undefined): Hue | undefined =>
  v === undefined ? undefined : v >= KV_HIGH ? 'red' : v >= KV_WARN ? 'yellow' : undefined;

export const stateHue = (s: SourceView['state']): Hue =>
  s === 'up' ? 'green' : s === 'down' ? 'red' : 'yellow';

/** "down since 12:03:04 (6 s)" (wide) or "down 6s" (narrow); "up"; "starting". */
export function stateText(s: SourceView, now: number, wide: boolean): string {
  if (s.state !== 'down') return s.state;
  if (s.downSince === undefined) return 'down';
  const ago = fmtDuration(now - s.downSince);
  return wide ? `down since ${fmtClock(s.downSince)} (${ago})` : `down ${ago.split(' ').slice(0, 2).join('')}`;
}

function content(col: Column, s: SourceView, snap: TopSnapshot, wide: boolean): Seg {
  switch (col.id) {
    case 'id':
      return {text: s.id};
    case 'role':
      return {text: s.role ?? KIND_LABEL[s.kind]};
    case 'host':
      return {text: s.host ?? DASH};
    case 'state':
      return {text: stateText(s, snap.at, wide), color: stateHue(s.state)};
    case 'running':
      return {text: fmtInt(s.running)};
    case 'waiting':
      return {text: fmtInt(s.waiting)};
    case 'kv':
      return {text: fmtPct(s.kvUsage), color: kvHue(s.kvUsage)};
    case 'kvSpark':
      return {text: s.history.kvUsage.length ? sparkline(s.history.kvUsage, col.width, 1) : ''};
    case 'hitRate':
      return {text: fmtPct(s.hitRate)};
    case 'tokens':
      return {text: fmtNum(s.outputTokensPerS)};
    case 'tokSpark':
      return {text: s.history.outputTokensPerS.length ? sparkline(s.history.outputTokensPerS, col.width) : ''};
    case 'restarts':
      return {text: fmtInt(s.restarts), color: s.restarts ? 'yellow' : undefined};
  }
}

function cell(col: Column, s: SourceView, snap: TopSnapshot, wide: boolean): Seg {
  const seg = content(col, s, snap, wide);
  seg.text = (col.align === 'right' ? padStart : padEnd)(seg.text, col.width);
  return seg;
}

/** The segments of one line: marker, then cells with GAP spaces between. */
function joinCells(marker: string, cells: Seg[], inverse: boolean): Seg[] {
  const gap = ' '.repeat(GAP);
  const segs: Seg[] = [{text: padEnd(marker, MARKER_WIDTH)}];
  cells.forEach((c, i) => {
    if (i > 0) segs.push({text: gap});
    segs.push(c);
  });
  return inverse ? segs.map((s) => ({...s, inverse: true})) : segs;
}

/** The table's lines: heading, the rows that fit around the selection, and "… n more" when some do not. */
export function tableLines({snapshot, sorted: sources, width, sort, selected, maxLines}: WorkerTableInput): Seg[][] {
  const cols = planColumns(width, {
    ids: sources.map((s) => s.id),
    hosts: sources.map((s) => s.host ?? DASH),
  });
  const wide = width >= WIDE_STATE_AT;
  const sortCol = SORT_COLUMN[sort];
  const heading = cols.map((c): Seg => {
    const text = c.id === sortCol ? `${c.heading}▼` : c.heading;
    return {text: (c.align === 'right' ? padStart : padEnd)(text, c.width), bold: true};
  });
  const room = maxLines === undefined ? sources.length : Math.max(1, maxLines - 1);
  const overflow = sources.length > room;
  const visible = overflow ? Math.max(1, room - 1) : sources.length;
  const selIdx = Math.max(0, sources.findIndex((s) => s.id === selected));
  const start = overflow ? Math.min(Math.max(0, selIdx - Math.floor(visible / 2)), sources.length - visible) : 0;
  const lines: Seg[][] = [joinCells('', heading, false)];
  for (const s of sources.slice(start, start + visible)) {
    const isSel = s.id === selected;
    lines.push(joinCells(isSel ? '›' : '', cols.map((c) => cell(c, s, snapshot, wide)), isSel));
  }
  if (overflow) lines.push([{text: `  … ${sources.length - visible} more of ${sources.length} (↑↓ scroll)`, color: 'gray'}]);
  return lines;
}
