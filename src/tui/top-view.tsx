/**
 * One whole `dynamo top` frame from props: header, worker table (or the help), detail pane of the
 * selected source, warnings, and in the live view the key hint. The live app and the plain
 * `--once` frame both render this, so they cannot drift apart.
 *
 * Height (when given, the live view): the table gets what the header, warnings and key hint leave;
 * the detail pane is shown only while the table can still show at least MIN_TABLE_LINES lines (or
 * all its rows), so on a short terminal the table wins.
 */
import {Box} from 'ink';
import type {TopSnapshot} from '../top/snapshot.js';
import {detailLines} from './detail-pane.js';
import {headerLines} from './header.js';
import {helpLines, keyHint} from './help-overlay.js';
import {Line, Lines, type Seg} from './line.js';
import type {SortKey} from './sort.js';
import {warningLines} from './warnings.js';
import {WorkerTable} from './worker-table.js';

export const MIN_TABLE_LINES = 4;

export interface TopViewProps {
  snapshot: TopSnapshot;
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

export function TopView({snapshot, width, height, color, selected, sort = 'role', help, keys}: TopViewProps) {
  const header = headerLines(snapshot, width);
  const warnings = warningLines(snapshot.warnings);
  const footer: Seg[][] = keys ? [keyHint(sort, snapshot.paused)] : [];
  const source = snapshot.sources.find((s) => s.id === selected);
  let detail = source && !help ? detailLines(snapshot, source, width) : [];
  const blank = (xs: unknown[]) => (xs.length ? 1 : 0);
  const fixed = (d: unknown[]) =>
    header.length + 1 + d.length + blank(d) + warnings.length + blank(warnings) + footer.length;
  let tableLines: number | undefined;
  if (height !== undefined) {
    const wanted = Math.min(snapshot.sources.length + 1, MIN_TABLE_LINES);
    if (height - fixed(detail) < wanted) detail = [];
    tableLines = Math.max(2, height - fixed(detail));
  }
  return (
    <Box flexDirection="column">
      <Lines lines={header} width={width} color={color} />
      <Line segs={[]} width={width} color={color} />
      {help ? (
        <Lines lines={helpLines({width, sort, paused: snapshot.paused})} width={width} color={color} />
      ) : (
        <WorkerTable
          snapshot={snapshot}
          width={width}
          color={color}
          sort={sort}
          selected={selected}
          maxLines={tableLines}
        />
      )}
      {detail.length > 0 && <Line segs={[]} width={width} color={color} />}
      {detail.length > 0 && <Lines lines={detail} width={width} color={color} />}
      {warnings.length > 0 && <Line segs={[]} width={width} color={color} />}
      {warnings.length > 0 && <Lines lines={warnings} width={width} color={color} />}
      {footer.length > 0 && <Lines lines={footer} width={width} color={color} />}
    </Box>
  );
}
