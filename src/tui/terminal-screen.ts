/**
 * Where the live `dynamo top` frame reaches the terminal: the alternate screen (as htop and less
 * use it: the shell's screen comes back untouched on exit), painted line by line, and only the
 * lines that changed since the last frame. Ink still runs the app (keys, raw mode, resize, exit);
 * it renders nothing itself, because its output pass re-measures and re-writes the whole screen
 * on every refresh, which cost more than everything else `top` does (docs/top.md, "Cost").
 *
 * `frameUpdate` is the pure part (what to write to go from one frame to the next); `TerminalScreen`
 * is the IO edge around one stream.
 */

const CSI = '\u001b[';
const ENTER_ALT = `${CSI}?1049h`;
const LEAVE_ALT = `${CSI}?1049l`;
const CLEAR = `${CSI}2J`;
/** Synchronized output (terminals that lack it ignore it): the terminal shows a frame whole, never half drawn. */
const BEGIN_SYNC = `${CSI}?2026h`;
const END_SYNC = `${CSI}?2026l`;
const RESET = `${CSI}0m`;

const moveTo = (row: number) => `${CSI}${row};1H`;
/** Row `row` (1-based) erased, then `line` written on it: erased first, because an erase after a
 * line that fills the width would take its last character (the cursor waits on it to wrap). */
const paintRow = (row: number, line: string) => `${moveTo(row)}${CSI}2K${line}${RESET}`;

/** What the frame needs of a screen: draw these lines, top to bottom. */
export interface FrameSink {
  draw(lines: readonly string[]): void;
}

/**
 * The bytes that turn `prev` (the lines on the screen; undefined: unknown, repaint all) into
 * `next`: changed rows are repainted, rows `prev` had below `next` are erased. Empty when nothing
 * changed.
 */
export function frameUpdate(prev: readonly string[] | undefined, next: readonly string[]): string {
  let out = prev === undefined ? `${CSI}H${CLEAR}` : '';
  for (let i = 0; i < next.length; i++) if (prev === undefined || prev[i] !== next[i]) out += paintRow(i + 1, next[i]!);
  if (prev !== undefined && prev.length > next.length) out += `${moveTo(next.length + 1)}${CSI}J`;
  return out && `${BEGIN_SYNC}${out}${END_SYNC}`;
}

/** A terminal stream holding the frame: `open`, `draw` frame after frame, `close` (also on exit). */
export class TerminalScreen implements FrameSink {
  private shown: readonly string[] | undefined;
  private size = '';
  private isOpen = false;
  private readonly closeOnExit = () => this.close();

  constructor(private readonly stream: NodeJS.WriteStream) {}

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    this.shown = undefined;
    this.stream.write(ENTER_ALT);
    // However the process ends, the shell gets its screen back.
    process.once('exit', this.closeOnExit);
  }

  draw(lines: readonly string[]): void {
    if (!this.isOpen) return;
    // A resized terminal may have moved or cut what it shows: repaint everything.
    const size = `${this.stream.columns}x${this.stream.rows}`;
    if (size !== this.size) this.shown = undefined;
    this.size = size;
    const bytes = frameUpdate(this.shown, lines);
    this.shown = lines;
    if (bytes) this.stream.write(bytes);
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    process.off('exit', this.closeOnExit);
    this.stream.write(LEAVE_ALT);
  }
}
