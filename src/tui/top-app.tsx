/**
 * The live `dynamo top` view. State lives outside React, in the store (src/top/): this component
 * reads its snapshot with useSyncExternalStore and keeps only what belongs to the view (selected
 * row, sort order, help shown). The selection stays on its source when the order changes. Keys: q / Ctrl-C quit, ↑ ↓ (or k j) select, s next sort order,
 * p pause / resume, r reset the window, ? help (Esc closes it too). Width and height follow the
 * terminal's resize events. Keys are read only where stdin supports raw mode (a TTY).
 */
import {useApp, useInput, useStdin, useStdout} from 'ink';
import {useCallback, useEffect, useState, useSyncExternalStore} from 'react';
import type {TopSnapshot} from '../top/snapshot.js';
import {nextSortKey, type SortKey, sortSources} from './sort.js';
import {TopView} from './top-view.js';

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
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, read]);
  return size;
}

export function TopApp({store, color, initialSort = 'role', onQuit}: TopAppProps) {
  const subscribe = useCallback((fn: () => void) => store.subscribe(fn), [store]);
  const getSnapshot = useCallback(() => store.snapshot(), [store]);
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  const {exit} = useApp();
  const {isRawModeSupported} = useStdin();
  const {columns, rows} = useTerminalSize();
  const [sort, setSort] = useState<SortKey>(initialSort);
  const [help, setHelp] = useState(false);
  const [picked, setPicked] = useState<string>();

  const sorted = sortSources(snapshot.sources, sort);
  const selected = sorted.some((s) => s.id === picked) ? picked : sorted[0]?.id;
  const move = (by: number) => {
    if (!sorted.length) return;
    const at = Math.max(0, sorted.findIndex((s) => s.id === selected));
    setPicked(sorted[Math.min(sorted.length - 1, Math.max(0, at + by))]!.id);
  };

  useInput(
    (input, key) => {
      if (input === 'q' || (key.ctrl && input === 'c')) {
        onQuit?.();
        exit();
      } else if (key.upArrow || input === 'k') move(-1);
      else if (key.downArrow || input === 'j') move(1);
      else if (input === 's') {
        setPicked(selected);
        setSort(nextSortKey(sort));
      }
      else if (input === 'p') (store.snapshot().paused ? store.resume() : store.pause());
      else if (input === 'r') store.resetWindow();
      else if (input === '?') setHelp(!help);
      else if (key.escape) setHelp(false);
    },
    {isActive: isRawModeSupported},
  );

  return (
    <TopView
      snapshot={snapshot}
      width={columns}
      height={rows === undefined ? undefined : rows - 1}
      color={color}
      selected={selected}
      sort={sort}
      help={help}
      keys
    />
  );
}
