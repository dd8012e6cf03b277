import {describe, expect, it} from 'vitest';
import {TerminalScreen, frameUpdate} from './terminal-screen.js';

const E = '\u001b[';
const SYNC = (s: string) => `${E}?2026h${s}${E}?2026l`;
const row = (n: number, line: string) => `${E}${n};1H${E}2K${line}${E}0m`;

describe('frameUpdate', () => {
  it('paints every line of the first frame on a cleared screen', () => {
    expect(frameUpdate(undefined, ['a', 'b'])).toBe(SYNC(`${E}H${E}2J${row(1, 'a')}${row(2, 'b')}`));
  });

  it('writes nothing when no line changed', () => {
    expect(frameUpdate(['a', 'b'], ['a', 'b'])).toBe('');
  });

  it('repaints only the rows that changed', () => {
    expect(frameUpdate(['a', 'b', 'c'], ['a', 'B', 'c'])).toBe(SYNC(row(2, 'B')));
  });

  it('erases the rows a longer frame had below a shorter one', () => {
    expect(frameUpdate(['a', 'b', 'c'], ['a'])).toBe(SYNC(`${E}2;1H${E}J`));
  });
});

/** A stream that records what is written, with a terminal size. */
function fakeTerminal(columns = 80, rows = 24) {
  const writes: string[] = [];
  const stream = {columns, rows, write: (s: string) => writes.push(s) > 0} as unknown as NodeJS.WriteStream & {columns: number};
  return {stream, writes};
}

describe('TerminalScreen', () => {
  it('draws on the alternate screen and leaves it once on close', () => {
    const {stream, writes} = fakeTerminal();
    const screen = new TerminalScreen(stream);
    screen.open();
    screen.draw(['x']);
    screen.close();
    screen.close();
    expect(writes).toEqual([`${E}?1049h`, frameUpdate(undefined, ['x']), `${E}?1049l`]);
  });

  it('sends only changed lines, and everything again after a resize', () => {
    const {stream, writes} = fakeTerminal();
    const screen = new TerminalScreen(stream);
    screen.open();
    screen.draw(['a', 'b']);
    screen.draw(['a', 'b']);
    screen.draw(['a', 'c']);
    stream.columns = 60;
    screen.draw(['a', 'c']);
    expect(writes.slice(1)).toEqual([frameUpdate(undefined, ['a', 'b']), frameUpdate(['a', 'b'], ['a', 'c']), frameUpdate(undefined, ['a', 'c'])]);
  });

  it('draws nothing before open or after close', () => {
    const {stream, writes} = fakeTerminal();
    const screen = new TerminalScreen(stream);
    screen.draw(['a']);
    screen.open();
    screen.close();
    screen.draw(['b']);
    expect(writes).toEqual([`${E}?1049h`, `${E}?1049l`]);
  });
});
