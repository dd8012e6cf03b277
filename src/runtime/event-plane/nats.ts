/**
 * The NATS event plane (`--event-plane nats`): every worker publishes its numbered KV events and
 * its load on its deployment's subjects, and every frontend subscribes, so any number of frontends
 * (and their routers) see every worker through one server. Subjects are named as Dynamo names
 * them: `namespace.{deployment}.component.backend.kv-events`, a msgpack `{worker, events:
 * WireEvent[]}` per event (src/kv/wire.ts, ids included), and `….kv_metrics`, a msgpack
 * `WorkerLoad` every half second (the frontend then polls no worker's health over HTTP).
 *
 * NATS carries live events only. A router that is new, or sees an id jump (a message lost while
 * a connection was down), catches up from the worker over the request plane, which replays from
 * its buffer or sends a snapshot (as Dynamo moved its recovery queries off NATS). So at-most-once
 * delivery costs a resync, never a wrong index.
 */
import {decode, encode} from '@msgpack/msgpack';
import {type NatsConnection, type Subscription, connect} from 'nats';
import type {WireEvent} from '../../kv/wire.js';
import {UserError} from '../../shared/errors.js';

export interface NatsKvMessage {
  worker: string;
  events: WireEvent[];
}

export interface WorkerLoad {
  worker: string;
  /** Share of its KV cache in use, 0..1. */
  kvUsage: number;
  inFlight: number;
}

export const kvEventsSubject = (deployment: string) => `namespace.${subjectToken(deployment)}.component.backend.kv-events`;
export const kvMetricsSubject = (deployment: string) => `namespace.${subjectToken(deployment)}.component.backend.kv_metrics`;

/** How often a worker publishes its load. */
export const LOAD_EVERY_MS = 500;

/** A deployment name as one subject token: NATS splits on dots and gives `*` and `>` meaning. */
function subjectToken(name: string): string {
  return name.replace(/[.*>\s]/g, '_');
}

/**
 * Connects, or fails at once with what to check (`dynamo up` starts NATS before the roles that
 * use it). Once connected the client reconnects for ever: events published while NATS is away
 * are lost, and routers resync from the workers when it is back.
 */
export async function openNats(url: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({servers: url.split(',').map((s) => s.trim()), name, timeout: 10_000, maxReconnectAttempts: -1, reconnectTimeWait: 500});
  } catch (e) {
    throw new UserError(`cannot reach NATS at ${url}: ${(e as Error).message}`, 'check --nats-url (eventPlane.natsUrl) and that nats-server runs there; without it, dynamo up runs one itself');
  }
}

export interface NatsEventsTarget {
  url: string;
  deployment: string;
}

/** A worker's publisher (worker/kv-event-publisher.ts), as far as this plane needs it. */
export interface NumberedEvents {
  onEvent(listener: (e: WireEvent) => void): () => void;
}

/**
 * A worker's side of the plane, from now on: each event as its publisher numbers it, and its load
 * every `loadEveryMs`. Resolves to the stop (which closes the connection).
 */
export async function publishWorker(target: NatsEventsTarget, worker: string, events: NumberedEvents, load: () => Omit<WorkerLoad, 'worker'>, loadEveryMs = LOAD_EVERY_MS): Promise<() => Promise<void>> {
  const nc = await openNats(target.url, `dynamo worker ${worker}`);
  const eventsSubject = kvEventsSubject(target.deployment);
  const loadSubject = kvMetricsSubject(target.deployment);
  const off = events.onEvent((e) => nc.publish(eventsSubject, encode({worker, events: [e]} satisfies NatsKvMessage)));
  const timer = setInterval(() => nc.publish(loadSubject, encode({worker, ...load()} satisfies WorkerLoad)), loadEveryMs);
  timer.unref();
  return async () => {
    off();
    clearInterval(timer);
    await nc.drain();
  };
}

/** A frontend's side: one subscription per subject, events fanned out to whoever follows a worker, loads to listeners. */
export class NatsKvSubscriber {
  private readonly followers = new Map<string, Set<EventQueue>>();
  private readonly loadListeners = new Set<(load: WorkerLoad) => void>();
  private readonly sub: Subscription;
  private readonly loadSub: Subscription;
  private readonly done: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    deployment: string,
    private readonly warn: (msg: string) => void = () => {},
  ) {
    this.sub = nc.subscribe(kvEventsSubject(deployment));
    this.loadSub = nc.subscribe(kvMetricsSubject(deployment));
    this.done = Promise.all([this.pump(), this.pumpLoads()]).then(() => {});
  }

  /** Hears every worker's load as it is published. */
  onLoad(listener: (load: WorkerLoad) => void): void {
    this.loadListeners.add(listener);
  }

  /** Live events of `worker` from now on, in arrival order, until `signal` aborts or the queue overflows. */
  follow(worker: string, signal: AbortSignal): AsyncIterable<WireEvent[]> {
    const q = new EventQueue();
    let set = this.followers.get(worker);
    if (!set) this.followers.set(worker, (set = new Set()));
    set.add(q);
    const leave = () => {
      set!.delete(q);
      if (!set!.size) this.followers.delete(worker);
      q.end();
    };
    signal.addEventListener('abort', leave, {once: true});
    return q;
  }

  /** Ends every follower and closes the connection. */
  async close(): Promise<void> {
    this.sub.unsubscribe();
    this.loadSub.unsubscribe();
    await this.done;
    await this.nc.close();
    for (const set of this.followers.values()) for (const q of set) q.end();
    this.followers.clear();
  }

  private async pump(): Promise<void> {
    for await (const m of this.sub) {
      let msg: NatsKvMessage;
      try {
        msg = decode(m.data) as NatsKvMessage;
      } catch (e) {
        this.warn(`a malformed KV event message on ${m.subject}: ${(e as Error).message}`);
        continue;
      }
      for (const q of this.followers.get(msg.worker) ?? []) q.push(msg.events);
    }
  }

  private async pumpLoads(): Promise<void> {
    for await (const m of this.loadSub) {
      let load: WorkerLoad;
      try {
        load = decode(m.data) as WorkerLoad;
      } catch {
        continue; // a malformed load is only a missed reading
      }
      if (typeof load.worker === 'string' && typeof load.kvUsage === 'number') for (const l of this.loadListeners) l(load);
    }
  }
}

/** Batches waiting for one follower; past `max` it fails, and the follower resyncs. */
class EventQueue implements AsyncIterable<WireEvent[]> {
  private readonly items: WireEvent[][] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private overflowed = false;

  constructor(private readonly max = 10_000) {}

  push(events: WireEvent[]): void {
    if (this.ended) return;
    if (this.items.length >= this.max) {
      this.overflowed = true;
      this.ended = true;
    } else this.items.push(events);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WireEvent[]> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.overflowed) throw new Error('events came faster than they were applied; resyncing');
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
