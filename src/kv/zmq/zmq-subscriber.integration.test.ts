// The subscriber against real libzmq: the zeromq addon (node only) plays a vLLM engine's PUB and
// its replay ROUTER, speaking the protocol of peers.md §1.2–1.3.
import {Encoder} from '@msgpack/msgpack';
import * as zmq from 'zeromq';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {BlockHasher} from '../block-hasher.js';
import {DynamoBlockHasher} from '../dynamo-hash.js';
import {Inbox, withTimeout} from '../../../test/helpers/gates.js';
import type {KvEvent} from '../events.js';
import {EngineEventSubscriber, type EngineEventSubscriberOptions} from './zmq-subscriber.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const enc = new Encoder({useBigInt64: true});
const tokensOf = (n: number) => Array.from({length: 16}, (_, i) => n * 16 + i);
/** Batch n stores one 16-token block, engine hash 1000 + n, chained under batch n − 1's block. */
const batch = (n: number, o: {dp?: number; blockSize?: number; lora?: string} = {}) =>
  Buffer.from(enc.encode([1700000000.5, [['BlockStored', [BigInt(1000 + n)], n ? BigInt(999 + n) : null, tokensOf(n), o.blockSize ?? 16, null, 'GPU', o.lora ?? null]], o.dp ?? 0]));
const be8 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};

/** A fake vLLM engine: XPUB (a PUB that shows when our subscription landed) and, if asked, a replay ROUTER. */
async function engine(o: {replay?: boolean; keep?: number; endpoint?: string} = {}) {
  const pub = new zmq.XPublisher({linger: 0});
  // Rebinding a port (an engine restarting on it): libzmq releases the old socket's port in its own
  // thread, after close() returned, so the bind is retried for a moment.
  for (let tries = 0; ; tries++) {
    try {
      await pub.bind(o.endpoint ?? 'tcp://127.0.0.1:*');
      break;
    } catch (e) {
      if (!o.endpoint || tries >= 50 || !/already in use/i.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  cleanups.push(() => pub.close());
  const buffer = new Map<bigint, Buffer>(); // what the replay serves: the last `keep` batches
  const requests = new Inbox<bigint>();
  let replayEndpoint: string | undefined;
  if (o.replay) {
    const router = new zmq.Router({linger: 0});
    await router.bind('tcp://127.0.0.1:*');
    replayEndpoint = router.lastEndpoint!;
    cleanups.push(() => router.close());
    void (async () => {
      try {
        for await (const [id, empty, start] of router) {
          expect(empty!.length).toBe(0);
          const from = start!.readBigUInt64BE(0);
          requests.push(from);
          for (const [seq, payload] of [...buffer].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (seq >= from) await router.send([id!, '', be8(seq), payload]);
          await router.send([id!, '', be8(-1n), '']);
        }
      } catch {
        // the socket closed
      }
    })();
  }
  let next = 0n;
  return {
    endpoint: pub.lastEndpoint!,
    replayEndpoint,
    requests,
    pub,
    subscribed: () => withTimeout(pub.receive(), 3000, 'our subscription at the engine'),
    /** Publishes the next batch; `deliver: false` keeps it for replay only, as if the PUB had dropped it. */
    async publish(payload: Buffer, deliver = true) {
      const seq = next++;
      buffer.set(seq, payload);
      if (buffer.size > (o.keep ?? 10_000)) buffer.delete([...buffer.keys()][0]!);
      if (deliver) await pub.send(['kv-events', be8(seq), payload]);
    },
  };
}

let hasher: BlockHasher;
beforeAll(async () => {
  hasher = await DynamoBlockHasher.create(16);
});

function subscribe(e: {endpoint: string; replayEndpoint?: string}, o: Partial<EngineEventSubscriberOptions> = {}) {
  const events = new Inbox<KvEvent>();
  const resyncs = new Inbox<string>();
  const warnings: string[] = [];
  const s = new EngineEventSubscriber({
    endpoint: e.endpoint,
    replayEndpoint: e.replayEndpoint,
    topic: 'kv',
    blockSize: 16,
    workerId: 'w1',
    reconnectMs: 20,
    maxReconnectMs: 100,
    replayTimeoutMs: 1000,
    onEvents: (batch) => batch.forEach(events.push),
    onResync: resyncs.push,
    warn: (m) => warnings.push(m),
    ...o,
  });
  cleanups.push(() => s.close());
  /** Engine hashes − 1000 of the stored blocks, with their event ids. */
  const stored = () => events.items.filter((e) => e.data.type === 'stored').map((e) => [e.eventId, Number((e.data as {blocks: {blockHash: bigint}[]}).blocks[0]!.blockHash - 1000n)]);
  const storedUpTo = (n: number) => events.until(() => stored().some(([, b]) => b === n), `block ${n}`);
  return {s, events, resyncs, warnings, stored, storedUpTo};
}

describe('EngineEventSubscriber against a libzmq engine', () => {
  it("turns each 3-frame batch into router events with Dynamo's content hashes and consecutive ids", async () => {
    const e = await engine();
    const sub = subscribe(e);
    expect((await e.subscribed())[0]!.toString('latin1')).toBe('\x01kv');
    for (const n of [0, 1, 2]) await e.publish(batch(n));
    await sub.storedUpTo(2);
    expect(sub.events.items).toStrictEqual([0, 1, 2].map((n) => ({eventId: n, dpRank: 0, data: {type: 'stored', ...(n ? {parentHash: BigInt(999 + n)} : {}), blocks: [{blockHash: BigInt(1000 + n), tokensHash: hasher.local(tokensOf(n))}]}})));
    expect(sub.s.status).toMatchObject({connected: true, replaying: false, lastSeq: 2n, stats: {batches: 3, events: 3, gaps: 0, lost: 0}});
  });

  it('asks the replay endpoint for the batches a gap lost, and delivers everything in order without a hole in ids', async () => {
    const e = await engine({replay: true});
    const sub = subscribe(e);
    await e.subscribed();
    await e.publish(batch(0));
    await sub.storedUpTo(0);
    await e.publish(batch(1));
    await e.publish(batch(2), false); // dropped by the PUB
    await e.publish(batch(3), false);
    await e.publish(batch(4));
    await sub.storedUpTo(4);
    expect(await e.requests.next('the replay request')).toBe(2n);
    expect(sub.stored()).toEqual([0, 1, 2, 3, 4].map((n) => [n, n]));
    expect(sub.s.stats).toMatchObject({gaps: 1, replays: 1, replayed: 3, lost: 0});
    await e.publish(batch(5));
    await sub.storedUpTo(5);
    // The replay also brought batch 4, which came live too: applied once, the live copy skipped.
    // Counted by now whatever the timing: the PUB delivers live 4 before live 5.
    expect(sub.stored()).toEqual([0, 1, 2, 3, 4, 5].map((n) => [n, n]));
    expect(sub.s.stats).toMatchObject({gaps: 1, replays: 1, replayed: 3, lost: 0, duplicates: 1});
    expect(sub.s.status.replaying).toBe(false);
  });

  it('catches up from the replay buffer when it joins an engine that has been publishing', async () => {
    const e = await engine({replay: true});
    for (const n of [0, 1, 2]) await e.publish(batch(n), false); // before anyone subscribed
    const sub = subscribe(e);
    await e.subscribed();
    await e.publish(batch(3));
    await sub.storedUpTo(3);
    expect(await e.requests.next('the replay request')).toBe(0n);
    expect(sub.stored()).toEqual([0, 1, 2, 3].map((n) => [n, n]));
    // The replay brought batch 3, which also comes live, maybe after the replay ended: the live copy
    // is skipped and counted by the time live 4 (delivered after it by the PUB) is stored.
    await e.publish(batch(4));
    await sub.storedUpTo(4);
    expect(sub.stored()).toEqual([0, 1, 2, 3, 4].map((n) => [n, n]));
    expect(sub.s.stats).toMatchObject({replayed: 4, duplicates: 1, lost: 0});
  });

  it('leaves a hole in event ids when batches are lost for good, so the router sees the gap', async () => {
    const noReplay = await engine();
    const sub = subscribe(noReplay);
    await noReplay.subscribed();
    await noReplay.publish(batch(0));
    await noReplay.publish(batch(1), false);
    await noReplay.publish(batch(2));
    await sub.storedUpTo(2);
    expect(sub.stored()).toEqual([
      [0, 0],
      [2, 2],
    ]);
    expect(sub.s.stats).toMatchObject({gaps: 1, lost: 1});
    expect(sub.warnings.join('\n')).toMatch(/batches 1–1 were lost \(no replay endpoint\)/);

    // An engine whose replay buffer no longer holds what was lost.
    const short = await engine({replay: true, keep: 1});
    const sub2 = subscribe(short);
    await short.subscribed();
    await short.publish(batch(0));
    await sub2.storedUpTo(0);
    for (const n of [1, 2, 3]) await short.publish(batch(n), false);
    await short.publish(batch(4));
    await sub2.storedUpTo(4);
    expect(sub2.stored()).toEqual([
      [0, 0],
      [2, 4],
    ]);
    expect(sub2.s.stats).toMatchObject({lost: 3, replays: 1});
  });

  it('goes on without a replay that never answers', async () => {
    const silent = new zmq.Router({linger: 0});
    await silent.bind('tcp://127.0.0.1:*');
    cleanups.push(() => silent.close());
    const e = await engine();
    const sub = subscribe({endpoint: e.endpoint, replayEndpoint: silent.lastEndpoint!}, {replayTimeoutMs: 150});
    await e.subscribed();
    await e.publish(batch(0));
    await e.publish(batch(1), false);
    await e.publish(batch(2));
    await sub.storedUpTo(2);
    expect(sub.stored()).toEqual([
      [0, 0],
      [2, 2],
    ]);
    expect(sub.warnings.join('\n')).toMatch(/no replay .* in time/);
  });

  it('forgets the engine when its seq starts over (a restart), then follows the new run', async () => {
    const e = await engine();
    const sub = subscribe(e);
    await e.subscribed();
    for (const n of [0, 1, 2]) await e.publish(batch(n));
    await sub.storedUpTo(2);
    // The engine process restarts on the same port: a new PUB, seq from 0 again.
    e.pub.close();
    const again = await engine({endpoint: e.endpoint});
    await again.subscribed();
    await again.publish(batch(7));
    await sub.storedUpTo(7);
    expect(await sub.resyncs.next('the resync')).toMatch(/went back from 2 to 0/);
    expect(sub.events.items.slice(3)).toStrictEqual([
      {eventId: 3, dpRank: 0, data: {type: 'cleared'}},
      {eventId: 4, dpRank: 0, data: {type: 'stored', parentHash: 1006n, blocks: [{blockHash: 1007n, tokensHash: hasher.local(tokensOf(7))}]}},
    ]);
    expect(sub.s.stats.restarts).toBe(1);
    // At least the engine going away; a reconnect that lands before the new engine binds counts too.
    expect(sub.s.stats.disconnects).toBeGreaterThanOrEqual(1);
  });

  it('works with a plain libzmq PUB, as vLLM binds it', async () => {
    const pub = new zmq.Publisher({linger: 0});
    await pub.bind('tcp://127.0.0.1:*');
    cleanups.push(() => pub.close());
    const sub = subscribe({endpoint: pub.lastEndpoint!});
    // A PUB cannot say when our subscription landed (the slow joiner): repeat seq 0 until it arrives.
    for (let i = 0; i < 200 && !sub.events.items.length; i++) {
      await pub.send(['kv-events', be8(0n), batch(0)]);
      await sub.events.until(() => sub.events.items.length > 0, 'seq 0', 10).catch(() => {});
    }
    await pub.send(['kv-events', be8(1n), batch(1)]);
    await sub.storedUpTo(1);
    expect(sub.stored()).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('counts and skips malformed messages, dropped events and a throwing consumer, and keeps going', async () => {
    const e = await engine();
    let throws = true;
    const events = new Inbox<KvEvent>();
    const sub = subscribe(e, {
      onEvents: (b) => {
        if (throws) {
          throws = false;
          throw new Error('consumer bug');
        }
        b.forEach(events.push);
      },
    });
    await e.subscribed();
    await e.pub.send(['kv-events', be8(0n), Buffer.from('c1', 'hex')]); // not msgpack
    await e.pub.send(['kv-events', Buffer.from('01', 'hex'), batch(1)]); // a 1-byte seq
    await e.pub.send(['kv-events', be8(1n)]); // two frames
    await e.pub.send(['kv-events', be8(1n), batch(1, {blockSize: 32})]); // the wrong block size
    await e.pub.send(['kv-events', be8(2n), batch(2)]); // the consumer throws on this one
    await e.pub.send(['kv-events', be8(3n), batch(3, {lora: 'adapter-a', dp: 1})]);
    await events.until(() => events.items.length === 1, 'the LoRA block');
    const lora = await DynamoBlockHasher.create(16, 'adapter-a');
    expect(events.items[0]).toStrictEqual({eventId: 0, dpRank: 1, data: {type: 'stored', parentHash: 1002n, blocks: [{blockHash: 1003n, tokensHash: lora.local(tokensOf(3))}]}});
    expect(sub.s.stats).toMatchObject({malformed: 3, consumerErrors: 1, lost: 0, dropped: {block_size_mismatch: 1}});
    expect(sub.warnings.join('\n')).toMatch(/worker w1 .*blocks of 32 tokens/);
  });
});
