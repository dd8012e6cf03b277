/**
 * The order rule for one engine publisher's batches, apart from any socket: each live batch carries
 * a seq (from 0, +1 per batch, back to 0 when the engine restarts). Given what arrives, it says
 * what to do:
 * - the next seq: apply it;
 * - a seq already applied: skip it (replays overlap live traffic);
 * - a jump: batches were lost (slow subscriber past the engine's HWM, or a late join). With a replay
 *   endpoint, ask it for them and hold live batches until the replay ends; what it cannot give back
 *   is lost. Batches held during a replay never start another one, so an engine that has nothing to
 *   replay cannot cause a loop;
 * - a live seq below the previous live one (or equal to it on a fresh connection): the engine
 *   restarted; forget it and start over as a late joiner.
 * A first batch above 0 means we joined late: the replay endpoint, when there is one, is asked from 0
 * so the router learns the blocks cached before it subscribed (vLLM keeps the last 10,000 batches).
 */
export type SeqAction =
  | {kind: 'apply'; seq: bigint; payload: Buffer; replayed: boolean}
  | {kind: 'duplicate'; seq: bigint}
  /** Batches `from`…`to` (inclusive) did not arrive. */
  | {kind: 'gap'; from: bigint; to: bigint}
  /** Ask the replay endpoint for every batch from `from`. */
  | {kind: 'replay'; from: bigint}
  /** Batches `from`…`to` will never be applied. */
  | {kind: 'lost'; from: bigint; to: bigint}
  /** The engine restarted: everything it reported before is void. */
  | {kind: 'restart'; from: bigint; to: bigint};

interface Held {
  seq: bigint;
  payload: Buffer;
  afterReconnect: boolean;
}

export interface BatchSequencerOptions {
  /** Whether a replay endpoint exists. */
  replay: boolean;
  /** Live batches held during a replay before giving up on it. */
  maxHeld?: number;
}

export class BatchSequencer {
  /** The last batch applied, live or replayed. */
  private lastSeq: bigint | undefined;
  /** The last live batch dealt with (held ones count once a replay ends). */
  private lastLive: bigint | undefined;
  private held: Held[] | undefined;
  private afterReconnect = false;

  constructor(private readonly opts: BatchSequencerOptions) {}

  /** The seq of the last batch applied. */
  get last(): bigint | undefined {
    return this.lastSeq;
  }

  get replaying(): boolean {
    return this.held !== undefined;
  }

  /** The live connection was re-established: a repeat of the last live seq now means a restart. */
  reconnected(): void {
    this.afterReconnect = true;
  }

  live(seq: bigint, payload: Buffer): SeqAction[] {
    const afterReconnect = this.afterReconnect;
    this.afterReconnect = false;
    if (this.held) {
      this.held.push({seq, payload, afterReconnect});
      return this.held.length > (this.opts.maxHeld ?? 10_000) ? this.replayEnded() : [];
    }
    return this.step({seq, payload, afterReconnect}, this.opts.replay, []);
  }

  /** One batch of the replay's answer. */
  replayed(seq: bigint, payload: Buffer): SeqAction[] {
    if (!this.held) return []; // a late answer to a replay already given up
    const last = this.lastSeq;
    if (last !== undefined && seq <= last) return [{kind: 'duplicate', seq}];
    const out: SeqAction[] = [];
    // The engine no longer has these (older than its buffer); a late join's history is not a loss.
    if (last !== undefined && seq > last + 1n) out.push({kind: 'lost', from: last + 1n, to: seq - 1n});
    this.lastSeq = seq;
    out.push({kind: 'apply', seq, payload, replayed: true});
    return out;
  }

  /** The replay finished (end marker) or was given up (timeout): apply what was held. */
  replayEnded(): SeqAction[] {
    const held = this.held;
    if (!held) return [];
    this.held = undefined;
    const out: SeqAction[] = [];
    for (const h of held) this.step(h, false, out);
    return out;
  }

  private step(b: Held, mayReplay: boolean, out: SeqAction[]): SeqAction[] {
    const {seq, payload} = b;
    // A restart shows in the live stream going back; a replay may have run ahead of it, so
    // batches at or below `lastSeq` but not below `lastLive` are only repeats.
    const prevLive = this.lastLive;
    if (prevLive !== undefined && (seq < prevLive || (seq === prevLive && b.afterReconnect))) {
      out.push({kind: 'restart', from: prevLive, to: seq});
      this.lastSeq = undefined;
      this.lastLive = undefined;
    }
    const last = this.lastSeq;
    if (last === undefined) {
      if (seq > 0n && mayReplay) return this.startReplay(b, 0n, out);
    } else if (seq <= last) {
      this.lastLive = seq;
      out.push({kind: 'duplicate', seq});
      return out;
    } else if (seq > last + 1n) {
      out.push({kind: 'gap', from: last + 1n, to: seq - 1n});
      if (mayReplay) return this.startReplay(b, last + 1n, out);
      out.push({kind: 'lost', from: last + 1n, to: seq - 1n});
    }
    this.lastSeq = seq;
    this.lastLive = seq;
    out.push({kind: 'apply', seq, payload, replayed: false});
    return out;
  }

  private startReplay(first: Held, from: bigint, out: SeqAction[]): SeqAction[] {
    this.held = [first];
    out.push({kind: 'replay', from});
    return out;
  }
}
