import {afterEach, describe, expect, it} from 'vitest';
import {KvEventPublisher} from '../worker/kv-event-publisher.js';
import {type KvEventData, eventObjects} from '../kv/events.js';
import type {WireMessage} from '../kv/wire.js';
import {type EventSource, KvEventFeed} from './kv-event-feed.js';

const stored = (h: bigint, parent?: bigint): KvEventData => ({type: 'stored', ...(parent === undefined ? {} : {parentHash: parent}), blocks: [{blockHash: h, tokensHash: h + 1000n}]});

/** Records what the router was told, per worker. */
function sink() {
  const log: string[] = [];
  const blocks = new Set<bigint>();
  return {
    log,
    blocks,
    sinkFor: () => eventObjects((e: KvEventData) => {
      if (e.type === 'stored') for (const b of e.blocks) blocks.add(b.blockHash);
      else if (e.type === 'removed') for (const h of e.blockHashes) blocks.delete(h);
      else blocks.clear();
      log.push(e.type);
    }),
    removeWorker() {
      blocks.clear();
      log.push('left');
    },
  };
}

/** The worker's subscription handler, in process; `drop` loses chosen event ids on the way. */
function source(pub: KvEventPublisher, drop = new Set<number>()): EventSource & {calls: (number | undefined)[]} {
  const calls: (number | undefined)[] = [];
  return {
    calls,
    async *call(body: unknown, signal?: AbortSignal) {
      const from = (body as {from?: number}).from;
      calls.push(from);
      for await (const m of pub.subscribe(from, signal ?? new AbortController().signal)) {
        if ('events' in m) {
          const kept = m.events.filter((e) => !drop.delete(e.id!));
          if (kept.length) yield {events: kept} satisfies WireMessage;
        } else yield m;
      }
    },
  };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

let feed: KvEventFeed | undefined;
afterEach(() => feed?.stop());

describe('KV events from our workers', () => {
  it('a catch-up subscription (live: false) replays what was missed, or sends a snapshot, then ends', async () => {
    const pub = new KvEventPublisher(() => [stored(1n)]);
    const seen: number[] = [];
    pub.onEvent((e) => seen.push(e.id!));
    for (const h of [1n, 2n, 3n]) pub.publish(stored(h));
    expect(seen).toEqual([0, 1, 2]);
    const drain = async (from: number | undefined) => {
      const out: WireMessage[] = [];
      for await (const m of pub.subscribe(from, new AbortController().signal, false)) out.push(m);
      return out;
    };
    expect((await drain(1)).flatMap((m) => ('events' in m ? m.events.map((e) => e.id) : []))).toEqual([1, 2]);
    expect(await drain(3)).toEqual([]);
    const fresh = await drain(undefined);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({reset: true, next: 3});
  });

  it('a new subscriber gets a snapshot of the worker’s state, then live events in order', async () => {
    const state = [stored(1n), stored(2n, 1n)];
    const pub = new KvEventPublisher(() => state);
    const s = sink();
    feed = new KvEventFeed(s, () => {}, 5);
    feed.track('w0', source(pub));
    await until(() => s.blocks.size === 2);
    pub.publish(stored(3n, 2n));
    pub.publish({type: 'removed', blockHashes: [3n]});
    await until(() => feed!.stats('w0')!.applied === 2);
    expect([...s.blocks]).toEqual([1n, 2n]);
    expect(feed.stats('w0')).toMatchObject({resets: 1, gaps: 0, lastEventId: 1});
  });

  it('detects a gap in event ids and replays the missing events from the worker’s buffer', async () => {
    const pub = new KvEventPublisher(() => []);
    const s = sink();
    const src = source(pub, new Set([1]));
    const warnings: string[] = [];
    feed = new KvEventFeed(s, (m) => warnings.push(m), 5);
    feed.track('w0', src);
    await until(() => feed!.stats('w0')!.resets === 1);
    pub.publish(stored(10n));
    await until(() => s.blocks.has(10n));
    pub.publish(stored(11n, 10n)); // id 1: lost on the way
    pub.publish(stored(12n, 11n)); // id 2: reveals the gap
    await until(() => s.blocks.has(12n) && s.blocks.has(11n));
    expect(feed.stats('w0')).toMatchObject({gaps: 1, resets: 1, lastEventId: 2});
    expect(warnings[0]).toMatch(/events 1…1 from w0 were lost/);
    expect(src.calls).toEqual([undefined, 1]);
  });

  it('resets from a snapshot when the missing events are no longer buffered', async () => {
    let state: KvEventData[] = [];
    const pub = new KvEventPublisher(() => state, 2);
    const s = sink();
    const src = source(pub, new Set([0, 1, 2, 3, 4]));
    feed = new KvEventFeed(s, () => {}, 5);
    feed.track('w0', src);
    await until(() => feed!.stats('w0')!.resets === 1);
    pub.publish(stored(20n)); // id 0, lost: the feed has seen nothing yet, so it cannot tell
    for (let i = 1n; i <= 5n; i++) pub.publish(stored(20n + i, 19n + i)); // 1–4 lost, 5 arrives
    state = [stored(99n)];
    await until(() => feed!.stats('w0')!.resets === 2);
    await until(() => s.blocks.has(99n));
    expect(s.blocks.has(25n)).toBe(false); // the snapshot is the truth now
  });

  it('forgets a worker’s blocks when it leaves', async () => {
    const pub = new KvEventPublisher(() => [stored(1n)]);
    const s = sink();
    feed = new KvEventFeed(s, () => {}, 5);
    feed.track('w0', source(pub));
    await until(() => s.blocks.size === 1);
    feed.untrack('w0');
    expect(s.log.at(-1)).toBe('left');
    expect(s.blocks.size).toBe(0);
  });
});
