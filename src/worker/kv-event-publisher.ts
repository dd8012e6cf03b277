/**
 * The worker's side of KV events: numbers every event its engine publishes (from 0, +1 each),
 * keeps the last `bufferSize` for replay, and serves subscriptions. A subscriber asks from an
 * event id: it gets the buffered events from there on, then live ones; when that id is no longer
 * buffered (or it asks from nothing, as a new router does) it gets a reset and a snapshot of the
 * engine's cached blocks first (Dynamo's "dump the worker's state on discovery").
 */
import type {KvEventData, KvEventSink} from '../kv/events.js';
import {type WireEvent, type WireMessage, toWire, wireEvents} from '../kv/wire.js';

export class KvEventPublisher {
  private readonly buffer: WireEvent[] = [];
  /** Id of buffer[0]. */
  private first = 0;
  private nextId = 0;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(e: WireEvent) => void>();

  constructor(
    private readonly snapshot: () => KvEventData[],
    private readonly bufferSize = 10_000,
  ) {}

  get lastEventId(): number {
    return this.nextId - 1;
  }

  publish(data: KvEventData): void {
    this.publishWire(toWire(data));
  }

  /** Events as calls with hashes as words (the mocker's block manager): packed for the wire as they are, no event object in between. */
  readonly sink: KvEventSink = wireEvents((w) => this.publishWire(w));

  private publishWire(w: WireEvent): void {
    w.id = this.nextId++;
    this.buffer.push(w);
    // Trim in chunks so each event costs O(1) amortized.
    if (this.buffer.length >= 2 * this.bufferSize) {
      this.buffer.splice(0, this.buffer.length - this.bufferSize);
      this.first = this.nextId - this.buffer.length;
    }
    const event = this.buffer[this.buffer.length - 1]!;
    for (const l of this.listeners) l(event);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Every event as it is published, numbered (the NATS event plane forwards them); returns the unsubscribe. */
  onEvent(listener: (e: WireEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Messages for a subscriber that has applied every event before `from` (undefined: nothing yet).
   * `live: false` ends the stream once it has caught up (a router that takes live events from NATS
   * asks only for what it missed).
   */
  async *subscribe(from: number | undefined, signal: AbortSignal, live = true): AsyncGenerator<WireMessage> {
    let next = from ?? -1;
    for (;;) {
      if (signal.aborted) return;
      if (next < this.first || next > this.nextId) {
        // Missed events can no longer be replayed (or the subscriber is new): start from state.
        next = this.nextId;
        yield {reset: true, next, snapshot: this.snapshot().map((d) => toWire(d))};
        continue;
      }
      if (next < this.nextId) {
        const events = this.buffer.slice(next - this.first);
        next = this.nextId;
        yield {events};
        continue;
      }
      if (!live) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
        signal.addEventListener('abort', wake, {once: true});
      });
    }
  }
}
