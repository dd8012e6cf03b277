/**
 * The router's side of our workers' KV events: one subscription per worker over its request-plane
 * connection, applying events in order. Event ids must rise by one; a jump means events were lost,
 * so the feed resubscribes from the last id it applied (the worker replays from its buffer, or
 * resets and sends a snapshot when those are gone). A dropped stream is resubscribed the same way;
 * a worker that leaves has its blocks forgotten.
 */
import type {KvEventSink} from '../kv/events.js';
import type {WorkerPool} from './worker-pool.js';
import {type WireMessage, applyWire} from '../kv/wire.js';

export interface EventSink {
  /** Where one worker's events go (the router's queue of index updates: hashes as words, no event objects). */
  sinkFor(worker: string): KvEventSink;
  removeWorker(worker: string): void;
}

export interface EventSource {
  call(body: unknown, signal?: AbortSignal): AsyncIterable<unknown>;
}

export interface FeedStats {
  applied: number;
  gaps: number;
  resets: number;
  lastEventId: number;
}

class GapError extends Error {}

interface Subscription {
  abort: AbortController;
  stats: FeedStats;
  /** Resolves once the worker's state has been applied (its snapshot or first events). */
  synced: Promise<void>;
  markSynced(): void;
}

export class KvEventFeed {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly sink: EventSink,
    private readonly warn: (msg: string) => void = () => {},
    private readonly retryMs = 250,
  ) {}

  stats(worker: string): FeedStats | undefined {
    return this.subs.get(worker)?.stats;
  }

  track(worker: string, source: EventSource): void {
    if (this.subs.has(worker)) return;
    let markSynced!: () => void;
    const synced = new Promise<void>((r) => (markSynced = r));
    const sub: Subscription = {abort: new AbortController(), stats: {applied: 0, gaps: 0, resets: 0, lastEventId: -1}, synced, markSynced};
    this.subs.set(worker, sub);
    void this.follow(worker, source, sub);
  }

  /** Resolves once every worker followed now has had its state applied: a router that starts (or restarts) knows their caches before it routes. */
  allSynced(): Promise<void> {
    return Promise.all([...this.subs.values()].map((s) => s.synced)).then(() => {});
  }

  untrack(worker: string): void {
    const sub = this.subs.get(worker);
    if (!sub) return;
    sub.abort.abort();
    this.subs.delete(worker);
    this.sink.removeWorker(worker);
  }

  stop(): void {
    for (const s of this.subs.values()) s.abort.abort();
    this.subs.clear();
  }

  private async follow(worker: string, source: EventSource, sub: Subscription): Promise<void> {
    const {stats, abort: {signal}} = sub;
    const into = this.sink.sinkFor(worker);
    let synced = false; // whether stats.lastEventId is a position we can resume from
    while (!signal.aborted) {
      const attempt = new AbortController();
      const onAbort = () => attempt.abort();
      signal.addEventListener('abort', onAbort, {once: true});
      try {
        for await (const item of source.call({kind: 'kv_events', from: synced ? stats.lastEventId + 1 : undefined}, attempt.signal)) {
          const msg = item as WireMessage;
          if ('reset' in msg) {
            into.cleared();
            for (const w of msg.snapshot ?? []) applyWire(w, into);
            stats.resets++;
            stats.lastEventId = msg.next - 1;
            synced = true;
            sub.markSynced();
            continue;
          }
          for (const w of msg.events) {
            const eventId = w.id ?? -1;
            if (synced && eventId !== stats.lastEventId + 1) {
              stats.gaps++;
              throw new GapError(`events ${stats.lastEventId + 1}…${eventId - 1} from ${worker} were lost; resyncing`);
            }
            applyWire(w, into);
            stats.applied++;
            stats.lastEventId = eventId;
            synced = true;
          }
          if (synced) sub.markSynced();
        }
      } catch (e) {
        if (signal.aborted) return;
        // A gap resubscribes at once; anything else (worker restarting, bad data) after a pause.
        if (e instanceof GapError) this.warn(e.message);
        else this.warn(`KV events from ${worker}: ${(e as Error).message}; resubscribing`);
        attempt.abort(); // ends the worker's side of this stream
        if (e instanceof GapError) continue;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      if (!signal.aborted) await new Promise((r) => setTimeout(r, this.retryMs));
    }
  }
}

/**
 * Subscribes to the KV events of every worker in the pool, as they join and leave: over each
 * worker's request-plane connection, or through `sourceFor` (the NATS event plane).
 */
export function followKvEvents(pool: WorkerPool, sink: EventSink, warn: (msg: string) => void, sourceFor: (id: string, conn: EventSource) => EventSource = (_id, conn) => conn): KvEventFeed {
  const feed = new KvEventFeed(sink, warn);
  pool.onMembership({joined: (id, conn) => feed.track(id, sourceFor(id, conn)), left: (id) => feed.untrack(id)});
  return feed;
}
