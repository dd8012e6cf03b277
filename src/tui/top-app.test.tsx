import {cleanup, render} from 'ink-testing-library';
import {afterEach, describe, expect, it, vi} from 'vitest';
import type {TopSnapshot} from '../top/snapshot.js';
import {TopApp, type TopStoreLike} from './top-app.js';
import {loadTopFixture} from './top-fixtures.test-support.js';

process.env.TZ = 'UTC';


/** A store replaying recorded snapshots: `push` is the next refresh; pause/resume flip `paused`. */
function replayStore(snaps: TopSnapshot[]) {
  let current = snaps[0]!;
  let next = 1;
  const listeners = new Set<() => void>();
  const calls: string[] = [];
  const emit = () => {
    for (const l of listeners) l();
  };
  const store: TopStoreLike & {calls: string[]; push(): void} = {
    calls,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    snapshot: () => current,
    pause() {
      calls.push('pause');
      current = {...current, paused: true};
      emit();
    },
    resume() {
      calls.push('resume');
      current = {...current, paused: false};
      emit();
    },
    resetWindow() {
      calls.push('resetWindow');
    },
    push() {
      current = snaps[next++]!;
      emit();
    },
  };
  return store;
}

/** Renders the app and waits until it reads keys (Ink attaches stdin in an effect): a gate, not a sleep. */
async function start(fixture: Parameters<typeof loadTopFixture>[0], onQuit?: () => void) {
  const store = replayStore(loadTopFixture(fixture));
  // The frames as the terminal would get them (TerminalScreen in the binary).
  let drawn: readonly string[] = [];
  const screen = {draw: (lines: readonly string[]) => void (drawn = lines)};
  const app = render(<TopApp store={store} screen={screen} color={false} onQuit={onQuit} />);
  await vi.waitFor(() => expect(app.stdin.listenerCount('readable')).toBeGreaterThan(0), {timeout: 10_000});
  const frame = () => drawn.join('\n');
  const selectedRow = () => frame().split('\n').find((l) => l.startsWith('›')) ?? '';
  const press = async (key: string, until: (f: string) => boolean) => {
    app.stdin.write(key);
    // Generous: on a loaded 2-core runner a render can take far longer than vi.waitFor's 1 s default.
    await vi.waitFor(() => expect(until(frame())).toBe(true), {timeout: 10_000});
  };
  return {app, store, frame, selectedRow, press};
}

afterEach(() => cleanup());

describe('TopApp (the live view)', () => {
  it('renders the store snapshot and follows it as it refreshes', async () => {
    const {frame, store} = await start('healthy-agg');
    expect(frame()).toContain('req/s 13.8 ');
    expect(frame()).toContain('? help  q quit');
    store.push();
    await vi.waitFor(() => expect(frame()).toContain('req/s 14.0 '));
  });

  // Moving the selection (arrows and j/k) is tested in a real terminal by the tmux test
  // (test/top.integration.test.ts): in this in-memory stdin it failed only inside the full suite.

  it('cycles the sort order with s: role, id, then state with the down worker first', async () => {
    const {frame, press} = await start('worker-down-and-back');
    const firstRow = () => frame().split('\n').find((l) => /^[› ] \S/.test(l) && !l.includes('ID')) ?? '';
    expect(frame()).toContain('ROLE▼');
    expect(firstRow()).toMatch(/ frontend /);
    await press('s', (f) => f.includes('ID▼') && f.includes('sort: id'));
    expect(firstRow()).toMatch(/ agg-0 /);
    await press('s', (f) => f.includes('STATE▼'));
    expect(firstRow()).toMatch(/^ {2}agg-2 +agg +gpu-node-2 +down 6s /);
    expect(frame()).toMatch(/^› frontend /m);
  });

  it('pauses and resumes the store with p, and shows PAUSED meanwhile', async () => {
    const {frame, store, press} = await start('healthy-agg');
    expect(frame()).not.toContain('PAUSED');
    await press('p', (f) => f.split('\n')[0]!.endsWith('window 60 s · every 2 s PAUSED'));
    expect(frame()).toContain('p resume');
    await press('p', (f) => !f.includes('PAUSED'));
    expect(store.calls).toEqual(['pause', 'resume']);
  });

  it('resets the window with r', async () => {
    const {store, app} = await start('healthy-agg');
    app.stdin.write('r');
    await vi.waitFor(() => expect(store.calls).toEqual(['resetWindow']));
  });

  it('shows the keys with ? instead of the table, and hides them again', async () => {
    const {frame, press} = await start('healthy-agg');
    await press('?', (f) => f.includes('── keys '));
    expect(frame()).toContain('  r          reset the window: rates and percentiles start over');
    expect(frame()).not.toContain('agg-0');
    await press('?', (f) => !f.includes('── keys ') && f.includes('agg-0'));
  });

  it('quits with q: calls onQuit and stops rendering', async () => {
    const onQuit = vi.fn();
    const {app, store, frame} = await start('healthy-agg', onQuit);
    app.stdin.write('q');
    await vi.waitFor(() => expect(onQuit).toHaveBeenCalledOnce());
    await vi.waitFor(() => expect(app.stdin.listenerCount('readable')).toBe(0));
    const last = frame();
    store.push();
    expect(frame()).toBe(last);
  });

  it('quits with Ctrl-C', async () => {
    const onQuit = vi.fn();
    const {app} = await start('healthy-agg', onQuit);
    app.stdin.write('\u0003');
    await vi.waitFor(() => expect(onQuit).toHaveBeenCalledOnce());
  });

  it('follows the terminal width when it is resized, dropping columns at 80', async () => {
    const {app, frame} = await start('healthy-agg');
    expect(frame()).toContain('HOST');
    Object.defineProperty(app.stdout, 'columns', {value: 80, configurable: true});
    app.stdout.emit('resize');
    await vi.waitFor(() => expect(frame()).not.toContain('HOST'));
    for (const line of frame().split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
  });
});
