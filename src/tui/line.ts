/**
 * One terminal line of `dynamo top`, built as styled segments, cut to the width (so no row ever
 * wraps) and painted to one string: plain text with `color` false (no escape code at all, whatever
 * the terminal or FORCE_COLOR say: NO_COLOR, a pipe, --once), else with SGR codes per segment.
 * Painting here rather than with one Ink <Text> per segment keeps a frame to a handful of React
 * nodes (docs/top.md, "Cost").
 */
import {clip, widthOf} from './format.js';

export type Hue = 'red' | 'green' | 'yellow' | 'gray';

export interface Seg {
  text: string;
  color?: Hue;
  bold?: boolean;
  inverse?: boolean;
}

/** Segments cut to `width` columns; `fill` pads the last one out (a highlighted row spans the width). */
export function fitSegs(segs: readonly Seg[], width: number, fill = false): Seg[] {
  const out: Seg[] = [];
  let left = width;
  for (const s of segs) {
    if (left <= 0) break;
    const w = widthOf(s.text);
    if (w <= left) {
      out.push(s);
      left -= w;
    } else {
      out.push({...s, text: clip(s.text, left)});
      left = 0;
    }
  }
  if (fill && left > 0) {
    const last = out[out.length - 1];
    out.push({text: ' '.repeat(left), inverse: last?.inverse});
  }
  return out;
}

/** Groups packed into lines no wider than `width`, in order. */
export function packGroups(groups: readonly Seg[][], width: number, gap = '   '): Seg[][] {
  const lines: Seg[][] = [];
  let line: Seg[] = [];
  let used = 0;
  for (const g of groups) {
    const w = g.reduce((n, s) => n + widthOf(s.text), 0);
    if (line.length && used + gap.length + w > width) {
      lines.push(line);
      line = [];
      used = 0;
    }
    if (line.length) {
      line.push({text: gap});
      used += gap.length;
    }
    line.push(...g);
    used += w;
  }
  if (line.length) lines.push(line);
  return lines;
}

export const segsText = (segs: readonly Seg[]): string => segs.map((s) => s.text).join('');

const ESC = '\u001b[';
/** SGR open and close codes, as chalk writes them. */
const HUE_CODES: Record<Hue, readonly [number, number]> = {red: [31, 39], green: [32, 39], yellow: [33, 39], gray: [90, 39]};

/** A segment with its SGR codes, nested as Ink's <Text> nests chalk: colour inside bold inside inverse. */
function paintSeg(s: Seg): string {
  if (!s.color && !s.bold && !s.inverse) return s.text;
  let open = '';
  let close = '';
  if (s.inverse) {
    open += `${ESC}7m`;
    close = `${ESC}27m`;
  }
  if (s.bold) {
    open += `${ESC}1m`;
    close = `${ESC}22m${close}`;
  }
  if (s.color) {
    const [on, off] = HUE_CODES[s.color];
    open += `${ESC}${on}m`;
    close = `${ESC}${off}m${close}`;
  }
  return open + s.text + close;
}

/** One line as the terminal gets it: cut to `width`, and styled when `color`. */
export function paintLine(segs: readonly Seg[], width: number, color: boolean): string {
  if (!color) return segsText(fitSegs(segs, width));
  const fitted = fitSegs(segs, width, segs.some((s) => s.inverse));
  let out = '';
  for (const s of fitted) out += paintSeg(s);
  return out;
}
