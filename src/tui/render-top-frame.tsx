/**
 * The plain twin of the live view: one `dynamo top` frame as text, for `dynamo top --once` and for
 * scripts. It renders the same TopView with Ink's synchronous renderToString (no stdout, no
 * timers, no raw mode), so it works the same under node, in tests and in the Bun binary.
 */
import {renderToString} from 'ink';
import type {TopSnapshot} from '../top/snapshot.js';
import type {SortKey} from './sort.js';
import {TopView} from './top-view.js';

export interface TopFrameOptions {
  /** Columns; every line is cut to it. */
  width: number;
  /** false (the default for --once): plain text with no escape codes whatever the environment. */
  color?: boolean;
  /** Id of a source to mark and show in the detail pane; none when undefined. */
  selected?: string;
  sort?: SortKey;
}

export function renderTopFrame(snapshot: TopSnapshot, opts: TopFrameOptions): string {
  const frame = renderToString(
    <TopView snapshot={snapshot} width={opts.width} color={opts.color ?? false} selected={opts.selected} sort={opts.sort} />,
    {columns: opts.width},
  );
  return frame
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
