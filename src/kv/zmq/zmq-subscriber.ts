/**
 * Follows one vLLM/SGLang engine publisher's KV events and hands the router its events.
 *
 * A SUB socket on the engine's `endpoint` receives `[topic, seq (u64 BE), msgpack batch]`;
 * `BatchSequencer` decides the order (gaps, replays over DEALER from `replay_endpoint`, restarts),
 * `decodeEngineBatch` and `toRouterEvents` turn each batch into router events with Dynamo's content
 * hashes, and `EventIds` numbers them per DP rank. Work runs through one serial queue so events
 * leave in seq order even when a LoRA hasher has to be made first.
 *
 * Nothing from the wire can throw out of here: malformed messages and batches are counted and
 * skipped, a throwing consumer is counted, and connection trouble is retried and warned about once.
 *
 * Who uses it: a worker hosting a real engine (vLLM, SGLang, TensorRT-LLM) runs one subscriber per
 * engine publisher (src/worker/engine-kv-relay.ts) and relays the router events on our own event
 * plane (../wire.ts). It lives in kv/ and not in the router because the worker side consumes it.
 */
import type {BlockHasher} from '../block-hasher.js';
import {BatchSequencer, type SeqAction} from './batch-sequencer.js';
import {EventDecodeError, decodeEngineBatch} from './engine-events.js';
import {EventIds} from './event-ids.js';
import {type DropReason, LoraHashers, loraNamesOf, toRouterEvents} from './to-router-events.js';
import type {KvEvent} from '../events.js';
import {ZmtpSocket} from './zmtp.js';

export interface EngineEventSubscriberOptions {
  /** The engine's PUB address (vLLM `endpoint`; each DP rank's port is the base port + rank). */
  endpoint: string;
  /** The engine's replay ROUTER (`replay_endpoint`), if it has one: lost batches are asked for there. */
  replayEndpoint?: string;
  /** Topic prefix (the engine's `topic`; '' takes everything). */
  topic?: string;
  /** The router's block size; stored blocks of another size are dropped. */
  blockSize: number;
  /** Names the engine in warnings. */
  workerId?: string;
  /** One batch's events in order (or, after a restart, a `cleared` per DP rank). */
  onEvents: (events: KvEvent[]) => void;
  /** The engine restarted: what it reported before is void (the `cleared` events say so in band too). */
  onResync?: (why: string) => void;
  warn?: (msg: string) => void;
  /** A replay that makes no progress for this long is given up (ms). */
  replayTimeoutMs?: number;
  /** Live batches held during a replay before giving it up. */
  maxHeldBatches?: number;
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** Dynamo's hasher by default; tests may inject another. */
  createHasher?: (blockSize: number, loraName?: string) => Promise<BlockHasher>;
}

export interface SubscriberStats {
  /** Batches applied (live or replayed). */
  batches: number;
  /** Router events emitted. */
  events: number;
  /** Jumps in seq seen. */
  gaps: number;
  /** Replay requests sent. */
  replays: number;
  /** Batches applied from a replay. */
  replayed: number;
  /** Batches never recovered. */
  lost: number;
  /** Batches skipped because they were already applied. */
  duplicates: number;
  restarts: number;
  /** Messages or batches that could not be read. */
  malformed: number;
  /** Engine events not indexed, by reason. */
  dropped: Record<DropReason, number>;
  consumerErrors: number;
  disconnects: number;
}

export interface SubscriberStatus {
  connected: boolean;
  replaying: boolean;
  lastSeq?: bigint;
  stats: SubscriberStats;
}

export class EngineEventSubscriber {
  readonly stats: SubscriberStats = {
    batches: 0,
    events: 0,
    gaps: 0,
    replays: 0,
    replayed: 0,
    lost: 0,
    duplicates: 0,
    restarts: 0,
    malformed: 0,
    dropped: {block_size_mismatch: 0, token_count_mismatch: 0, duplicate_hash: 0, not_device_tier: 0},
    consumerErrors: 0,
    disconnects: 0,
  };
  private readonly seq: BatchSequencer;
  private readonly ids = new EventIds();
  private readonly hashers: LoraHashers;
  private readonly sub: ZmtpSocket;
  private dealer?: ZmtpSocket;
  private replayTimer?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly warned = new Set<string>();

  constructor(private readonly opts: EngineEventSubscriberOptions) {
    this.seq = new BatchSequencer({replay: opts.replayEndpoint !== undefined, maxHeld: opts.maxHeldBatches});
    this.hashers = new LoraHashers(opts.blockSize, opts.createHasher);
    this.enqueue(() => this.hashers.prepare([undefined])); // the base hasher, ahead of the first batch
    this.sub = new ZmtpSocket({
      type: 'SUB',
      endpoint: opts.endpoint,
      subscribe: [opts.topic ?? ''],
      reconnectMs: opts.reconnectMs,
      maxReconnectMs: opts.maxReconnectMs,
      onMessage: (frames) => this.onLive(frames),
      onConnect: () => {
        this.warned.delete('sub');
        this.seq.reconnected();
      },
      onDisconnect: (why) => {
        this.stats.disconnects++;
        this.warnOnce('sub', `KV events from ${opts.endpoint}: ${why}; reconnecting`);
      },
    });
  }

  get status(): SubscriberStatus {
    return {connected: this.sub.connected, replaying: this.seq.replaying, ...(this.seq.last === undefined ? {} : {lastSeq: this.seq.last}), stats: this.stats};
  }

  /** Stops both sockets; no events are emitted afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.replayTimer);
    await Promise.all([this.sub.close(), this.dealer?.close()]);
  }

  private get who(): string {
    return this.opts.workerId ? `worker ${this.opts.workerId} (${this.opts.endpoint})` : this.opts.endpoint;
  }

  private onLive(frames: Buffer[]): void {
    if (frames.length !== 3 || frames[1]!.length !== 8) {
      this.stats.malformed++;
      this.warnOnce('frames', `KV events from ${this.who}: skipping a message that is not [topic, 8-byte seq, batch]`);
      return;
    }
    this.act(this.seq.live(frames[1]!.readBigUInt64BE(0), frames[2]!));
  }

  private onReplay(frames: Buffer[]): void {
    if (!this.seq.replaying) return;
    if (frames.length !== 3 || frames[0]!.length !== 0 || frames[1]!.length !== 8) {
      this.stats.malformed++;
      return;
    }
    if (frames[2]!.length === 0) {
      // The end marker (seq −1, empty payload).
      clearTimeout(this.replayTimer);
      this.act(this.seq.replayEnded());
      return;
    }
    this.armReplayTimer();
    this.act(this.seq.replayed(frames[1]!.readBigUInt64BE(0), frames[2]!));
  }

  private act(actions: SeqAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'apply':
          this.enqueue(() => this.apply(a.seq, a.payload, a.replayed));
          break;
        case 'duplicate':
          this.stats.duplicates++;
          break;
        case 'gap':
          this.stats.gaps++;
          break;
        case 'replay':
          this.requestReplay(a.from);
          break;
        case 'lost':
          this.stats.lost += Number(a.to - a.from + 1n);
          this.opts.warn?.(`KV events from ${this.who}: batches ${a.from}–${a.to} were lost${this.opts.replayEndpoint ? ' and the engine could not replay them' : ' (no replay endpoint)'}`);
          this.enqueue(() => this.ids.skip());
          break;
        case 'restart':
          this.stats.restarts++;
          this.enqueue(() => this.resync(`the engine's batch seq went back from ${a.from} to ${a.to}: it restarted`));
          break;
      }
    }
  }

  private resync(why: string): void {
    this.opts.warn?.(`KV events from ${this.who}: ${why}; forgetting its blocks`);
    const cleared = this.ids.ranks().map((dpRank): KvEvent => ({eventId: this.ids.take(dpRank), dpRank, data: {type: 'cleared'}}));
    this.emit(cleared);
    try {
      this.opts.onResync?.(why);
    } catch {
      this.stats.consumerErrors++;
    }
  }

  private async apply(seq: bigint, payload: Buffer, replayed: boolean): Promise<void> {
    let batch: ReturnType<typeof decodeEngineBatch>;
    try {
      batch = decodeEngineBatch(payload);
    } catch (e) {
      if (!(e instanceof EventDecodeError)) throw e;
      this.stats.malformed++;
      this.warnOnce('batch', `KV events from ${this.who}: skipping batch ${seq}: ${e.message}`);
      return;
    }
    const making = this.hashers.prepare(loraNamesOf(batch.events));
    if (making) await making;
    const converted = toRouterEvents(batch.events, this.opts.blockSize, (lora) => this.hashers.get(lora));
    for (const d of converted.dropped) {
      this.stats.dropped[d.reason]++;
      this.warnOnce(d.reason, `KV events from ${this.who}: dropping events (${d.reason}): ${d.detail}`);
    }
    this.stats.batches++;
    if (replayed) this.stats.replayed++;
    this.emit(converted.events.map((data) => ({eventId: this.ids.take(batch.dpRank), dpRank: batch.dpRank, data})));
  }

  private emit(events: KvEvent[]): void {
    if (this.closed || !events.length) return;
    this.stats.events += events.length;
    try {
      this.opts.onEvents(events);
    } catch (e) {
      this.stats.consumerErrors++;
      this.warnOnce('consumer', `KV events from ${this.who}: the consumer threw: ${(e as Error).message}`);
    }
  }

  private enqueue(task: () => unknown): void {
    this.queue = this.queue.then(task).then(
      () => {},
      (e: Error) => this.opts.warn?.(`KV events from ${this.who}: ${e.message}`),
    );
  }

  private requestReplay(from: bigint): void {
    this.stats.replays++;
    this.dealer ??= new ZmtpSocket({
      type: 'DEALER',
      endpoint: this.opts.replayEndpoint!,
      reconnectMs: this.opts.reconnectMs,
      maxReconnectMs: this.opts.maxReconnectMs,
      onMessage: (frames) => this.onReplay(frames),
      onConnect: () => this.warned.delete('replay'),
      onDisconnect: (why) => this.warnOnce('replay', `KV event replay at ${this.opts.replayEndpoint}: ${why}`),
    });
    const start = Buffer.alloc(8);
    start.writeBigUInt64BE(from);
    this.dealer.send(['', start]); // DEALER adds no delimiter itself; the engine's ROUTER wants one
    this.armReplayTimer();
  }

  private armReplayTimer(): void {
    clearTimeout(this.replayTimer);
    this.replayTimer = setTimeout(() => {
      this.opts.warn?.(`KV events from ${this.who}: no replay from ${this.opts.replayEndpoint} in time; going on without it`);
      // A fresh DEALER next time, so a stale answer cannot end a later replay early.
      void this.dealer?.close();
      this.dealer = undefined;
      this.act(this.seq.replayEnded());
    }, this.opts.replayTimeoutMs ?? 2000);
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.warn?.(msg);
  }
}
