/**
 * One whole `dynamo top` frame from props: header, worker table (or the help), detail pane of the
 * selected source, warnings, and in the live view the key hint. The live app and the plain
 * `--once` frame both render this, so they cannot drift apart.
 *
 * Height (when given, the live view): the table gets what the header, warnings and key hint leave;
 * the detail pane is shown only while the table can still show at least MIN_TABLE_LINES lines (or
 * all its rows), so on a short terminal the table wins.
 *
 * How it reaches Ink (docs/top.md, "Cost"): the frame is built as lines of segments (`frameLines`,
 * pure), each painted to one string cut to the width (`paintLine`), and the lines go to Ink as ONE
 * text node (`FrameText`), so React reconciles a handful of nodes and Yoga lays out one, whatever
 * the number of sources.
 */
import {Text, Transform, useIsScreenReaderEnabled} from 'ink';
import type {SourceView, TopSnapshot} from '../top/snapshot.js';
import {detailLines} from './detail-pane.js';
import {headerLines} from './header.js';
import {helpLines, keyHint} from './help-overlay.js';
import {paintLine, type Seg} from './line.js';
import {type SortKey, sortSources} from './sort.js';
import {warningLines} from './warnings.js';
import {tableLines} from './worker-table.js';

export const MIN_TABLE_LINES = 4;

export interface TopViewProps {
  snapshot: TopSnapshot;
  /** The snapshot's sources in the order of `sort`, when the caller has sorted them already. */
  sorted?: readonly SourceView[];
  /** Columns; every line is cut to it. */
  width: number;
  /** Rows of the terminal; unlimited when undefined (the --once frame). */
  height?: number;
  /** false: no escape codes at all (NO_COLOR, a pipe, --once). */
  color: boolean;
  /** Id of the selected source: marked in the table and shown in the detail pane. */
  selected?: string;
  sort?: SortKey;
  /** Show the keys instead of the table and the detail pane. */
  help?: boolean;
  /** Show the key hint line at the bottom (the live view). */
  keys?: boolean;
}

/** Every line of the frame, top to bottom, as segments not yet cut to the width. */
export function frameLines({snapshot, sorted, width, height, selected, sort = 'role', help, keys}: Omit<TopViewProps, 'color'>): Seg[][] {
  const header = headerLines(snapshot, width);
  const warnings = warningLines(snapshot.warnings);
  const footer: Seg[][] = keys ? [keyHint(sort, snapshot.paused)] : [];
  const source = snapshot.sources.find((s) => s.id === selected);
  let detail = source && !help ? detailLines(snapshot, source, width) : [];
  const blank = (xs: unknown[]) => (xs.length ? 1 : 0);
  const fixed = (d: unknown[]) =>
    header.length + 1 + d.length + blank(d) + warnings.length + blank(warnings) + footer.length;
  let tableMax: number | undefined;
  if (height !== undefined) {
    const wanted = Math.min(snapshot.sources.length + 1, MIN_TABLE_LINES);
    if (height - fixed(detail) < wanted) detail = [];
    tableMax = Math.max(2, height - fixed(detail));
  }
  const middle = help
    ? helpLines({width, sort, paused: snapshot.paused})
    : tableLines({snapshot, sorted: sorted ?? sortSources(snapshot.sources, sort), width, sort, selected, maxLines: tableMax});
  const none: Seg[] = [];
  return [
    ...header,
    none,
    ...middle,
    ...(detail.length ? [none, ...detail] : []),
    ...(warnings.length ? [none, ...warnings] : []),
    ...footer,
  ];
}

/** The frame as the terminal shows it: one string per line, cut to the width, styled when `color`. */
export function paintFrame(props: TopViewProps): string[] {
  return frameLines(props).map((segs) => paintLine(segs, props.width, props.color));
}

export function TopView(props: TopViewProps) {
  return <FrameText lines={paintFrame(props)} />;
}

/**
 * Finished lines as one Ink node. Yoga measures a placeholder of one space per line, and a
 * <Transform> puts each painted line in its place as Ink writes the output: Ink keeps every text
 * it has ever measured in a cache for the life of the process, so measuring the frame itself
 * would keep one copy of every frame shown (about 40 MB an hour at 64 sources), where the
 * placeholder is measured once per frame height. A screen reader gets the lines as the label.
 */
export function FrameText({lines}: {lines: readonly string[]}) {
  const screenReader = useIsScreenReaderEnabled();
  if (!lines.length) return null;
  return (
    <Transform transform={(_, index) => lines[index] ?? ''} accessibilityLabel={screenReader ? lines.join('\n') : undefined}>
      <Text>{placeholder(lines.length)}</Text>
    </Transform>
  );
}

const placeholder = (n: number) => `${' \n'.repeat(n - 1)} `;
