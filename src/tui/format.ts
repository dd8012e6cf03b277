/**
 * Number, time and width formatting for `dynamo top`'s views. Pure: time zone is the process's
 * (tests pin TZ), and an unknown figure (undefined, null, NaN) is always the en dash "–", never 0,
 * as src/top/snapshot.ts asks.
 */

export const DASH = '–';

const known = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Rates and counts: 0.4, 12, 845, 3.1k, 312k, 1.2M; one decimal below `decimalsBelow` (13.8 req/s). */
export function fmtNum(v: number | null | undefined, decimalsBelow = 10): string {
  if (!known(v)) return DASH;
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < decimalsBelow && a < 1000) return v.toFixed(1);
  if (a < 1000) return String(Math.round(v));
  if (a < 10_000) return `${(v / 1000).toFixed(1)}k`;
  if (a < 1_000_000) return `${Math.round(v / 1000)}k`;
  return `${(v / 1_000_000).toFixed(1)}M`;
}

/** Whole counts (running, waiting, restarts). */
export function fmtInt(v: number | null | undefined): string {
  return known(v) ? String(Math.round(v)) : DASH;
}

/** 0–1 as a whole percentage. */
export function fmtPct(v: number | null | undefined): string {
  return known(v) ? `${Math.round(v * 100)}%` : DASH;
}

/** Milliseconds: 4.2 ms, 142 ms, 1.24 s. */
export function fmtMs(v: number | null | undefined): string {
  if (!known(v)) return DASH;
  if (v < 10) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(2)} s`;
}

/** An elapsed time: 6 s, 4 m 5 s, 2 h 3 m, 1 d 4 h. */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** Wall-clock time of day, HH:MM:SS in the local zone. */
export function fmtClock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Columns a string takes. Everything top prints is one column per code point (ASCII, blocks, arrows). */
export function widthOf(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Cuts to `width` columns, marking a cut with "…". */
export function clip(text: string, width: number): string {
  if (width <= 0) return '';
  if (widthOf(text) <= width) return text;
  return [...text].slice(0, width - 1).join('') + '…';
}

/** Left-aligned in exactly `width` columns. */
export function padEnd(text: string, width: number): string {
  const t = clip(text, width);
  return t + ' '.repeat(width - widthOf(t));
}

/** Right-aligned in exactly `width` columns. */
export function padStart(text: string, width: number): string {
  const t = clip(text, width);
  return ' '.repeat(width - widthOf(t)) + t;
}
