/**
 * The live `dynamo top` view. State lives outside React, in the store (src/top/): this component
 * reads it with useSyncExternalStore and keeps only what belongs to the view (selected row, sort
 * order, help shown). The selection stays on its source when the order changes. Keys: q / Ctrl-C
 * quit, ↑ ↓ (or k j) select, s next sort order, p pause / resume, r reset the window, ? help (Esc
 * closes it too). Width and height follow the terminal's resize events. Keys are read only where
 * stdin supports raw mode (a TTY).
 *
 * What React sees of a refresh is the painted frame, not the snapshot: the external store is read
 * through a selector that paints the frame for the current view, so a refresh that paints the same
 * lines as the last one renders nothing at all. The frame goes to `screen` (the terminal's
 * alternate screen, changed lines only: terminal-screen.ts), not to Ink's output: this component
 * renders nothing (docs/top.md, "Cost").
 *
 * Keys act on the frame last drawn (read from a ref) through functional state updates, so a key
 * that arrives before React has handed Ink the new handler (keys held down, a loaded machine) still
 * moves from where the selection is, not from where it was one render ago.
 */
import {useApp, useInput, useStdin, useStdout} from 'ink';
import {useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore} from 'react';
import type {TopSnapshot} from '../top/snapshot.js';
import {nextSortKey, type SortKey, sortSources} from './sort.js';
import type {FrameSink} from './terminal-screen.js';
import {paintFrame} from './top-view.js';

/** What the view needs of the store. */
export interface TopStoreLike {
  /** Calls `listener` after every change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** The current snapshot: the same object until the next change (useSyncExternalStore needs that). */
  snapshot(): TopSnapshot;
  pause(): void;
  resume(): void;
  /** Forget the window: rates and percentiles start over from the next scrape. */
  resetWindow(): void;
}

export interface TopAppProps {
  store: TopStoreLike;
  /** Where frames are drawn: the terminal (TerminalScreen), or a recorder in tests. */
  screen: FrameSink;
  /** false under NO_COLOR or when stdout is not a TTY. */
  color: boolean;
  initialSort?: SortKey;
  /** Called on q / Ctrl-C, before the app exits (stop the pollers here). */
  onQuit?: () => void;
}

function useTerminalSize(): {columns: number; rows?: number} {
  const {stdout} = useStdout();
  const read = useCallback(() => ({columns: stdout.columns || 80, rows: stdout.rows || undefined}), [stdout]);
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    // Ahead of Ink's own resize handler, so the frame it redraws is already cut to the new width.
    stdout.prependListener('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, read]);
  return size;
}

interface ViewState {
  color: boolean;
  width: number;
  height?: number;
  sort: SortKey;
  help: boolean;
  /** The source the user picked; the first row when none or gone. */
  picked?: string;
}

/** One painted frame, and the order of its rows for the arrow keys. */
interface Frame {
  lines: string[];
  /** Source ids in table order. */
  ids: string[];
}

/**
 * snapshot → Frame for one view state, remembering the last answer: the same snapshot gives the
 * same Frame (useSyncExternalStore asks more than once), and so do equal lines from a new one.
 */
function frameSelector(view: ViewState): (snap: TopSnapshot) => Frame {
  let lastSnap: TopSnapshot | undefined;
  let last: Frame | undefined;
  let lastText = '';
  return (snap) => {
    if (snap === lastSnap && last) return last;
    const sorted = sortSources(snap.sources, view.sort);
    const selected = sorted.some((s) => s.id === view.picked) ? view.picked : sorted[0]?.id;
    const lines = paintFrame({snapshot: snap, sorted, width: view.width, height: view.height, color: view.color, selected, sort: view.sort, help: view.help, keys: true});
    const text = lines.join('\n');
    const ids = sorted.map((s) => s.id);
    lastSnap = snap;
    if (!last || text !== lastText || ids.join('\n') !== last.ids.join('\n')) {
      last = {lines, ids};
      lastText = text;
    }
    return last;
  };
}

export function TopApp({store, screen, color, initialSort = 'role', onQuit}: TopAppProps) {
  const {exit} = useApp();
  const {isRawModeSupported} = useStdin();
  const {columns, rows} = useTerminalSize();
  const [sort, setSort] = useState<SortKey>(initialSort);
  const [help, setHelp] = useState(false);
  const [picked, setPicked] = useState<string>();

  const height = rows === undefined ? undefined : rows - 1;
  const select = useMemo(() => frameSelector({color, width: columns, height, sort, help, picked}), [color, columns, height, sort, help, picked]);
  const subscribe = useCallback((fn: () => void) => store.subscribe(fn), [store]);
  const getFrame = useCallback(() => select(store.snapshot()), [store, select]);
  const frame = useSyncExternalStore(subscribe, getFrame, getFrame);
  const drawn = useRef(frame);
  drawn.current = frame;

  /** The selected id as the table shows it: the pick while it is listed, else the first row. */
  const shown = (pick: string | undefined) => {
    const {ids} = drawn.current;
    return pick !== undefined && ids.includes(pick) ? pick : ids[0];
  };
  const move = (by: number) =>
    setPicked((pick) => {
      const {ids} = drawn.current;
      if (!ids.length) return pick;
      const at = Math.max(0, ids.indexOf(shown(pick) ?? ''));
      return ids[Math.min(ids.length - 1, Math.max(0, at + by))];
    });

  useInput(
    (input, key) => {
      if (input === 'q' || (key.ctrl && input === 'c')) {
        onQuit?.();
        exit();
      } else if (key.upArrow || input === 'k') move(-1);
      else if (key.downArrow || input === 'j') move(1);
      else if (input === 's') {
        // The selection stays on its source in the new order.
        setPicked(shown);
        setSort(nextSortKey);
      }
      else if (input === 'p') (store.snapshot().paused ? store.resume() : store.pause());
      else if (input === 'r') store.resetWindow();
      else if (input === '?') setHelp((on) => !on);
      else if (key.escape) setHelp(false);
    },
    {isActive: isRawModeSupported},
  );

  useLayoutEffect(() => screen.draw(frame.lines), [screen, frame]);
  return null;
}
