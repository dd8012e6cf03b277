/**
 * A worker's KV events on the NATS event plane, as the feed (kv-event-feed.ts) reads any source:
 * one stream of messages with rising event ids. What the router missed (everything, when it is
 * new) comes from the worker over the request plane: a replay or a snapshot, after which that
 * stream ends; live events come from NATS, minus those the catch-up already covered. The feed
 * keeps its own gap check, so a message NATS dropped leads to a catch-up from the last id applied.
 */
import type {WireEvent, WireMessage} from '../kv/wire.js';
import type {NatsKvSubscriber} from '../runtime/event-plane/nats.js';
import type {EventSource} from './kv-event-feed.js';

export function natsEventSource(worker: string, requestPlane: EventSource, nats: Pick<NatsKvSubscriber, 'follow'>): EventSource {
  return {
    async *call(body, signal) {
      const {from} = body as {from?: number};
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal?.addEventListener('abort', onAbort, {once: true});
      try {
        // Follow NATS first: whatever is published during the catch-up waits in the queue.
        const live = nats.follow(worker, stop.signal);
        let last = from === undefined ? -1 : from - 1;
        for await (const item of requestPlane.call({kind: 'kv_events', from, live: false}, stop.signal)) {
          const m = item as WireMessage;
          last = 'reset' in m ? m.next - 1 : (lastId(m.events) ?? last);
          yield m;
        }
        for await (const events of live) {
          const fresh = events.filter((e) => e.id !== undefined && e.id > last);
          if (!fresh.length) continue;
          last = fresh[fresh.length - 1]!.id!;
          yield {events: fresh} satisfies WireMessage;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        stop.abort();
      }
    },
  };
}

const lastId = (events: readonly WireEvent[]) => events[events.length - 1]?.id;
