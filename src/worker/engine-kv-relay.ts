/**
 * A real engine's KV events, relayed to routers: one ZMQ subscriber per data-parallel rank's
 * publisher (src/kv/zmq/), the events folded into the worker's picture of the engine's cache
 * (src/kv/block-mirror.ts), and what changed published on our event plane exactly as the mocker's
 * events are (`KvEventPublisher`: numbered, buffered, a snapshot for a router that starts late).
 *
 * The engine binds its publishers (`tcp://*:port`); the worker connects to them on the engine's
 * address. A lost batch or an engine restart reaches the mirror as a gap or a `cleared`, and the
 * routers as removals or a clear.
 */
import {KvBlockMirror} from '../kv/block-mirror.js';
import {EngineEventSubscriber} from '../kv/zmq/zmq-subscriber.js';
import {KvEventPublisher} from './kv-event-publisher.js';

export interface EngineKvRelayOptions {
  /** The engine's PUB endpoints (one per data-parallel rank) and replay ROUTERs, as it binds them. */
  endpoints: readonly string[];
  replayEndpoints: readonly string[];
  /** Where the engine is reached from the worker. */
  address: string;
  blockSize: number;
  workerId: string;
  warn(msg: string): void;
}

/** `tcp://*:5557` (bound by the engine) → `tcp://<address>:5557` (connected to by the worker). */
export function connectAddress(endpoint: string, address: string): string {
  return endpoint.replace(/^tcp:\/\/(\*|0\.0\.0\.0|\[::\]|::)(?=:\d+$)/, `tcp://${address}`);
}

export class EngineKvRelay {
  readonly mirror = new KvBlockMirror();
  readonly publisher = new KvEventPublisher(() => this.mirror.snapshot());
  private subscribers: EngineEventSubscriber[] = [];

  constructor(private readonly opts: EngineKvRelayOptions) {}

  /** Connects to the engine's publishers (once it serves: before, every attempt would be refused). */
  start(): void {
    if (this.subscribers.length) return;
    const {opts} = this;
    this.subscribers = opts.endpoints.map(
      (endpoint, rank) =>
        new EngineEventSubscriber({
          endpoint: connectAddress(endpoint, opts.address),
          replayEndpoint: opts.replayEndpoints[rank] === undefined ? undefined : connectAddress(opts.replayEndpoints[rank], opts.address),
          blockSize: opts.blockSize,
          workerId: opts.workerId,
          warn: opts.warn,
          onEvents: (events) => {
            for (const e of events) for (const data of this.mirror.apply(e)) this.publisher.publish(data);
          },
        }),
    );
  }

  /** Whether every publisher is connected (for health and tests). */
  get connected(): boolean {
    return this.subscribers.length > 0 && this.subscribers.every((s) => s.status.connected);
  }

  get stats() {
    return this.subscribers.map((s) => s.status.stats);
  }

  async close(): Promise<void> {
    await Promise.all(this.subscribers.map((s) => s.close()));
  }
}
