/**
 * The NATS event plane (`--event-plane nats`): every worker publishes its numbered KV events on
 * its deployment's subject, and every frontend subscribes, so any number of frontends (and their
 * routers) see every worker's events through one server. Subjects are named as Dynamo names them:
 * `namespace.{deployment}.component.backend.kv-events`. A message is msgpack of
 * `{worker, events: WireEvent[]}` (src/kv/wire.ts, ids included).
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

export const kvEventsSubject = (deployment: string) => `namespace.${subjectToken(deployment)}.component.backend.kv-events`;

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

/** Publishes each event a worker numbers, from now on; resolves to the stop (which closes the connection). */
export async function forwardKvEvents(target: NatsEventsTarget, worker: string, events: NumberedEvents): Promise<() => Promise<void>> {
  const nc = await openNats(target.url, `dynamo worker ${worker}`);
  const subject = kvEventsSubject(target.deployment);
  const off = events.onEvent((e) => nc.publish(subject, encode({worker, events: [e]} satisfies NatsKvMessage)));
  return async () => {
    off();
    await nc.drain();
  };
}

/** One subscription to a deployment's subject, fanned out to whoever follows a worker. */
export class NatsKvSubscriber {
  private readonly followers = new Map<string, Set<EventQueue>>();
  private readonly sub: Subscription;
  private readonly done: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    deployment: string,
    private readonly warn: (msg: string) => void = () => {},
  ) {
    this.sub = nc.subscribe(kvEventsSubject(deployment));
    this.done = this.pump();
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
