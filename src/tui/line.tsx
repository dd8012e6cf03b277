/**
 * One terminal line of `dynamo top`, built as styled segments and cut to the width, so no row ever
 * wraps. With `color` false no style reaches Ink at all: the frame is plain text whatever chalk
 * thinks of the terminal (NO_COLOR, a pipe, FORCE_COLOR).
 */
import {Box, Text} from 'ink';
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

export function Line({segs, width, color}: {segs: readonly Seg[]; width: number; color: boolean}) {
  const fitted = fitSegs(segs, width, color && segs.some((s) => s.inverse));
  const text = segsText(fitted);
  if (!color || fitted.every((s) => !s.color && !s.bold && !s.inverse)) {
    return <Text wrap="truncate-end">{text === '' ? ' ' : text}</Text>;
  }
  return (
    <Text wrap="truncate-end">
      {fitted.map((s, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional
        <Text key={i} color={s.color} bold={s.bold} inverse={s.inverse}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}

/** A block of lines, one Line each. */
export function Lines({lines, width, color}: {lines: readonly Seg[][]; width: number; color: boolean}) {
  return (
    <Box flexDirection="column">
      {lines.map((segs, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
        <Line key={i} width={width} color={color} segs={segs} />
      ))}
    </Box>
  );
}
