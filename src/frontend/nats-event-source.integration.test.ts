/**
 * The NATS event plane with a real nats-server: a worker publishes its numbered events and its load,
 * two routers follow them through natsEventSource (catch-up over the "request plane", here the
 * publisher's subscription handler in process), and both end with the worker's exact block set:
 * after a late join (snapshot), after events NATS never carried (gap → catch-up), and after an
 * outage of NATS itself.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {requireNats, startNats, type TestNats} from '../../test/helpers/nats.js';
import {until} from '../../test/helpers/processes.js';
import {type KvEventData, eventObjects} from '../kv/events.js';
import {NatsKvSubscriber, type WorkerLoad, openNats, publishWorker} from '../runtime/event-plane/nats.js';
import {KvEventPublisher} from '../worker/kv-event-publisher.js';
import {type EventSource, KvEventFeed} from './kv-event-feed.js';
import {natsEventSource} from './nats-event-source.js';

const stored = (h: bigint): KvEventData => ({type: 'stored', blocks: [{blockHash: h, tokensHash: h + 1000n}]});
const removed = (h: bigint): KvEventData => ({type: 'removed', blockHashes: [h]});

/** A worker: its blocks, its publisher, and its subscription handler as the request plane serves it. */
function worker() {
  const blocks = new Set<bigint>();
  const pub = new KvEventPublisher(() => [...blocks].map(stored));
  const requestPlane: EventSource & {catchUps: number} = {
    catchUps: 0,
    async *call(body, signal) {
      const b = body as {from?: number; live?: boolean};
      expect(b.live).toBe(false); // on the NATS plane, only what was missed
      requestPlane.catchUps++;
      yield* pub.subscribe(b.from, signal ?? new AbortController().signal, false);
    },
  };
  return {
    pub,
    blocks,
    requestPlane,
    store(h: bigint) {
      blocks.add(h);
      pub.publish(stored(h));
    },
    remove(h: bigint) {
      blocks.delete(h);
      pub.publish(removed(h));
    },
  };
}

/** A router's view of one worker's blocks. */
function router() {
  const blocks = new Set<bigint>();
  return {
    blocks,
    sinkFor: () => eventObjects((e: KvEventData) => {
      if (e.type === 'stored') for (const b of e.blocks) blocks.add(b.blockHash);
      else if (e.type === 'removed') for (const h of e.blockHashes) blocks.delete(h);
      else blocks.clear();
    }),
    removeWorker() {
      blocks.clear();
    },
  };
}

const same = (a: Set<bigint>, b: Set<bigint>) => a.size === b.size && [...a].every((x) => b.has(x));

type Conn = {name?: string; subscriptions: number};
/** NATS's own view: the worker connected, and both routers connected with their two subscriptions (events, loads). */
async function clientsBack(monitorUrl: string): Promise<boolean> {
  try {
    const {connections} = (await (await fetch(`${monitorUrl}/connz`)).json()) as {connections: Conn[]};
    const routers = connections.filter((c) => c.name === 'test router' && c.subscriptions >= 2);
    return routers.length === 2 && connections.some((c) => c.name === 'dynamo worker agg-0');
  } catch {
    return false;
  }
}

describe('the NATS event plane', () => {
  requireNats();
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(() => nats.stop());

  it('two routers follow one worker through NATS: late join, lost messages and an outage all end in the worker’s state', async () => {
    const target = {url: nats.url, deployment: 'nt'};
    const w = worker();
    w.store(1n);
    w.store(2n); // before anyone follows: reaches routers as a snapshot
    const load = () => ({kvUsage: w.blocks.size / 1000, inFlight: 0});
    const stopForward = await publishWorker(target, 'agg-0', w.pub, load, 50);
    const routers = [router(), router()];
    const subscribers = await Promise.all(routers.map(async () => new NatsKvSubscriber(await openNats(nats.url, 'test router'), 'nt')));
    const loads: WorkerLoad[] = [];
    subscribers[0]!.onLoad((l) => loads.push(l));
    const feeds = routers.map((r, i) => {
      const feed = new KvEventFeed(r, () => {}, 20);
      feed.track('agg-0', natsEventSource('agg-0', w.requestPlane, subscribers[i]!));
      return feed;
    });
    try {
      await until(async () => routers.every((r) => same(r.blocks, w.blocks)), 5000, 'the snapshot');
      const catchUps = w.requestPlane.catchUps;
      for (let h = 3n; h < 50n; h++) w.store(h);
      w.remove(3n);
      await until(async () => routers.every((r) => same(r.blocks, w.blocks)), 5000, 'live events through NATS');
      expect(w.requestPlane.catchUps).toBe(catchUps); // live events came through NATS alone
      expect(feeds.every((f) => f.stats('agg-0')!.applied >= 48)).toBe(true);
      // Its load too, on kv_metrics.
      await until(async () => loads.some((l) => l.worker === 'agg-0' && l.kvUsage === w.blocks.size / 1000), 5000, 'the worker\'s load');

      // Events NATS never carried (the worker's connection was away): the next id jumps, each router catches up.
      const stopped = stopForward;
      await stopped();
      w.store(100n);
      w.remove(1n);
      const resumed = await publishWorker(target, 'agg-0', w.pub, load, 50);
      w.store(101n);
      await until(async () => routers.every((r) => same(r.blocks, w.blocks)), 5000, 'the catch-up after a gap');
      expect(feeds.every((f) => f.stats('agg-0')!.gaps >= 1)).toBe(true);

      // NATS itself goes away and comes back: clients reconnect; whatever was lost is caught up.
      const reconnected = () => clientsBack(nats.monitorUrl);
      await nats.stop();
      w.store(200n);
      await nats.start();
      await until(reconnected, 10_000, 'the worker and both routers to reconnect and subscribe again');
      w.store(201n);
      await until(async () => routers.every((r) => same(r.blocks, w.blocks)), 10_000, 'the state after a NATS outage');
      await resumed();
    } finally {
      for (const f of feeds) f.stop();
      for (const s of subscribers) await s.close();
    }
  }, 60_000);

  it('a NATS that is not there fails at once, saying what to check', async () => {
    await expect(openNats('nats://127.0.0.1:9', 'test')).rejects.toThrow(/cannot reach NATS at nats:\/\/127\.0\.0\.1:9: .*\n?/);
  });
});
