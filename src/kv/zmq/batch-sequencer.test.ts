import {describe, expect, it} from 'vitest';
import {BatchSequencer, type SeqAction} from './batch-sequencer.js';

const p = (n: number) => Buffer.from([n]);
/** Actions in a compact form: `apply 3`, `apply 3 (replayed)`, `gap 1-2`, `replay 1`, `lost 1-2`, `restart 5-0`, `dup 3`. */
const show = (actions: SeqAction[]) =>
  actions.map((a) => {
    switch (a.kind) {
      case 'apply':
        return `apply ${a.seq}${a.replayed ? ' (replayed)' : ''}`;
      case 'duplicate':
        return `dup ${a.seq}`;
      case 'replay':
        return `replay ${a.from}`;
      default:
        return `${a.kind} ${a.from}-${a.to}`;
    }
  });
const live = (s: BatchSequencer, ...seqs: number[]) => seqs.flatMap((n) => show(s.live(BigInt(n), p(n))));

describe('batch order of one engine publisher', () => {
  it('applies consecutive batches and skips repeats', () => {
    const s = new BatchSequencer({replay: false});
    expect(live(s, 0, 1, 1, 2)).toEqual(['apply 0', 'apply 1', 'dup 1', 'apply 2']);
    expect(s.last).toBe(2n);
  });

  it('without a replay endpoint, reports a jump as lost and goes on', () => {
    const s = new BatchSequencer({replay: false});
    expect(live(s, 0, 3)).toEqual(['apply 0', 'gap 1-2', 'lost 1-2', 'apply 3']);
  });

  it('with one, asks for the missing batches, holds live ones meanwhile and applies everything in seq order', () => {
    const s = new BatchSequencer({replay: true});
    expect(live(s, 0, 1, 4, 5)).toEqual(['apply 0', 'apply 1', 'gap 2-3', 'replay 2']);
    expect(s.replaying).toBe(true);
    // The engine replays from 2 to what it has published so far, overlapping the held 4 and 5.
    expect([2, 3, 4, 5].flatMap((n) => show(s.replayed(BigInt(n), p(n))))).toEqual(['apply 2 (replayed)', 'apply 3 (replayed)', 'apply 4 (replayed)', 'apply 5 (replayed)']);
    expect(live(s, 6)).toEqual([]); // still replaying until the end marker
    expect(show(s.replayEnded())).toEqual(['dup 4', 'dup 5', 'apply 6']);
    expect(s.replaying).toBe(false);
  });

  it('counts what the replay no longer has as lost, and never loops when the engine has nothing to give', () => {
    const s = new BatchSequencer({replay: true});
    expect(live(s, 0, 5)).toEqual(['apply 0', 'gap 1-4', 'replay 1']);
    expect(show(s.replayed(3n, p(3)))).toEqual(['lost 1-2', 'apply 3 (replayed)']);
    expect(show(s.replayEnded())).toEqual(['gap 4-4', 'lost 4-4', 'apply 5']);
    const empty = new BatchSequencer({replay: true});
    live(empty, 0, 2);
    expect(show(empty.replayEnded())).toEqual(['gap 1-1', 'lost 1-1', 'apply 2']);
  });

  it('asks for the history from 0 when it joins late, without calling that a loss', () => {
    const s = new BatchSequencer({replay: true});
    expect(live(s, 7)).toEqual(['replay 0']);
    expect(show(s.replayed(5n, p(5)))).toEqual(['apply 5 (replayed)']); // 0..4 aged out of the engine's buffer
    expect(show(s.replayed(6n, p(6)))).toEqual(['apply 6 (replayed)']);
    expect(show(s.replayEnded())).toEqual(['apply 7']);
    expect(live(new BatchSequencer({replay: false}), 7)).toEqual(['apply 7']);
  });

  it('treats a seq that goes back as an engine restart, then starts over as a late joiner', () => {
    const s = new BatchSequencer({replay: false});
    expect(live(s, 0, 1, 2, 0, 1)).toEqual(['apply 0', 'apply 1', 'apply 2', 'restart 2-0', 'apply 0', 'apply 1']);
    const r = new BatchSequencer({replay: true});
    expect(live(r, 0, 1, 2, 1)).toEqual(['apply 0', 'apply 1', 'apply 2', 'restart 2-1', 'replay 0']);
  });

  it('on a new connection, a repeat of the last seq is a restart, not a duplicate', () => {
    const s = new BatchSequencer({replay: false});
    live(s, 0);
    s.reconnected();
    expect(live(s, 0, 0)).toEqual(['restart 0-0', 'apply 0', 'dup 0']);
  });

  it('sees a restart among the batches held during a replay', () => {
    const s = new BatchSequencer({replay: true});
    expect(live(s, 0, 3, 4, 0)).toEqual(['apply 0', 'gap 1-2', 'replay 1']);
    expect(show(s.replayEnded())).toEqual(['gap 1-2', 'lost 1-2', 'apply 3', 'apply 4', 'restart 4-0', 'apply 0']);
  });

  it('gives up a replay when too many live batches pile up, and ignores answers that come after', () => {
    const s = new BatchSequencer({replay: true, maxHeld: 2});
    expect(live(s, 0, 2, 3)).toEqual(['apply 0', 'gap 1-1', 'replay 1']);
    expect(live(s, 4)).toEqual(['gap 1-1', 'lost 1-1', 'apply 2', 'apply 3', 'apply 4']);
    expect(show(s.replayed(1n, p(1)))).toEqual([]);
    expect(show(s.replayEnded())).toEqual([]);
  });
});
