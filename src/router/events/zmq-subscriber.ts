/**
 * Follows one vLLM/SGLang engine's KV events: a SUB socket on its `endpoint` receives
 * `[topic, seq (u64 BE), msgpack batch]`; batches are applied in seq order. A jump in seq means
 * batches were lost (slow subscriber, late join): with a `replay_endpoint` the missing ones are
 * asked for over DEALER (`["", start_seq]` → `["", seq, batch]`… until an empty batch) while live
 * ones wait; without one the loss is counted and warned about. A seq lower than the last means the
 * engine restarted: its blocks are forgotten. Malformed batches are counted and skipped.
 */
import type {BlockHasher} from '../block-hasher.js';
import type {KvEventData} from './types.js';
import {type DropReason, EventDecodeError, decodeEngineBatch, toRouterEvents} from './vllm-wire.js';
import {ZmtpSocket} from './zmtp.js';

export interface EngineSubscriberOptions {
  endpoint: string;
  replayEndpoint?: string;
  /** Topic prefix to subscribe to ('' = all). */
  topic?: string;
  /** The router's block size (the engine's must match). */
  blockSize: number;
  hasherFor: (loraName?: string) => BlockHasher;
  /** One batch's events, in order. */
  onEvents: (events: KvEventData[], dpRank: number) => void;
  /** The engine restarted: forget all it held. */
  onReset: () => void;
  warn?: (msg: string) => void;
  /** How long to wait for a replay before going on without it. */
  replayTimeoutMs?: number;
}

export interface SubscriberStats {
  batches: number;
  events: number;
  gaps: number;
  replayed: number;
  restarts: number;
  malformed: number;
  dropped: Partial<Record<DropReason, number>>;
}

export class EngineEventSubscriber {
  readonly stats: SubscriberStats = {batches: 0, events: 0, gaps: 0, replayed: 0, restarts: 0, malformed: 0, dropped: {}};
  private last: bigint | undefined;
  private readonly sub: ZmtpSocket;
  private dealer?: ZmtpSocket;
  /** Live batches held while a replay is running. */
  private held: {seq: bigint; payload: Buffer}[] | undefined;
  private replayTimer?: NodeJS.Timeout;

  constructor(private readonly opts: EngineSubscriberOptions) {
    this.sub = new ZmtpSocket('SUB', opts.endpoint, {
      subscribe: [opts.topic ?? ''],
      onMessage: (frames) => this.onLive(frames),
      onError: (e) => opts.warn?.(`KV events ${opts.endpoint}: ${e.message}`),
    });
  }

  get lastSeq(): bigint | undefined {
    return this.last;
  }

  close(): void {
    clearTimeout(this.replayTimer);
    this.sub.close();
    this.dealer?.close();
  }

  private onLive(frames: Buffer[]): void {
    if (frames.length < 3 || frames[1]!.length !== 8) {
      this.stats.malformed++;
      return;
    }
    const seq = frames[1]!.readBigUInt64BE(0);
    const payload = frames[2]!;
    if (this.held) {
      this.held.push({seq, payload});
      return;
    }
    if (this.last === undefined) {
      // Joined late: what came before is lost unless the engine can replay it.
      if (seq > 0n && this.opts.replayEndpoint) {
        this.replay(0n, {seq, payload});
        return;
      }
    } else if (seq === this.last) return; // a duplicate
    else if (seq < this.last) {
      this.stats.restarts++;
      this.opts.warn?.(`KV events ${this.opts.endpoint}: sequence went back from ${this.last} to ${seq}; the engine restarted, forgetting its blocks`);
      this.opts.onReset();
    } else if (seq > this.last + 1n) {
      this.stats.gaps++;
      if (this.opts.replayEndpoint) {
        this.replay(this.last + 1n, {seq, payload});
        return;
      }
      this.opts.warn?.(`KV events ${this.opts.endpoint}: batches ${this.last + 1n}…${seq - 1n} were lost and there is no replay endpoint`);
    }
    this.apply(seq, payload);
  }

  private apply(seq: bigint, payload: Buffer): void {
    this.last = seq;
    let batch: ReturnType<typeof decodeEngineBatch>;
    try {
      batch = decodeEngineBatch(payload);
    } catch (e) {
      if (!(e instanceof EventDecodeError)) throw e;
      this.stats.malformed++;
      this.opts.warn?.(`KV events ${this.opts.endpoint}: batch ${seq} skipped: ${e.message}`);
      return;
    }
    const converted = toRouterEvents(batch.events, this.opts.blockSize, this.opts.hasherFor);
    for (const d of converted.dropped) this.stats.dropped[d.reason] = (this.stats.dropped[d.reason] ?? 0) + 1;
    this.stats.batches++;
    this.stats.events += converted.events.length;
    if (converted.events.length) this.opts.onEvents(converted.events, batch.dpRank);
  }

  private replay(from: bigint, first: {seq: bigint; payload: Buffer}): void {
    this.held = [first];
    this.dealer ??= new ZmtpSocket('DEALER', this.opts.replayEndpoint!, {onMessage: (frames) => this.onReplay(frames)});
    const start = Buffer.alloc(8);
    start.writeBigUInt64BE(from);
    this.dealer.send([Buffer.alloc(0), start]);
    this.replayTimer = setTimeout(() => {
      this.opts.warn?.(`KV events ${this.opts.endpoint}: no replay from ${this.opts.replayEndpoint} in time; going on without it`);
      this.endReplay();
    }, this.opts.replayTimeoutMs ?? 2000);
  }

  private onReplay(frames: Buffer[]): void {
    if (!this.held) return; // a late answer to a replay we gave up on
    const [, seqFrame, payload] = frames;
    if (seqFrame?.length !== 8 || !payload?.length) {
      this.endReplay(); // the end marker (an empty batch)
      return;
    }
    const seq = seqFrame!.readBigUInt64BE(0);
    if (this.last !== undefined && seq <= this.last) return;
    this.stats.replayed++;
    this.apply(seq, payload);
  }

  private endReplay(): void {
    clearTimeout(this.replayTimer);
    const held = this.held ?? [];
    this.held = undefined;
    for (const {seq, payload} of held.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))) {
      if (this.last === undefined || seq > this.last) this.apply(seq, payload);
    }
  }
}
