import {Encoder} from '@msgpack/msgpack';
import * as zmq from 'zeromq';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {DynamoBlockHasher} from '../dynamo-hash.js';
import type {KvEventData} from './types.js';
import {EngineEventSubscriber} from './zmq-subscriber.js';
import {ZmtpParser, encodeFrame, encodeMessage, greeting, parseEndpoint} from './zmtp.js';

describe('ZMTP framing', () => {
  it('parses greeting, commands and multipart messages from arbitrarily split chunks, long frames too', () => {
    const long = Buffer.alloc(300, 7);
    const wire = Buffer.concat([greeting(), encodeFrame(Buffer.from('\x05READY'), false, true), encodeMessage([Buffer.from('topic'), Buffer.alloc(8), long]), encodeMessage([Buffer.from('x')])]);
    for (const step of [1, 3, 64, 1000]) {
      const p = new ZmtpParser();
      const out = [];
      for (let i = 0; i < wire.length; i += step) out.push(...p.push(wire.subarray(i, i + step)));
      expect(out.map((e) => e.kind)).toEqual(['command', 'message', 'message']);
      expect(out[0]).toMatchObject({kind: 'command', name: 'READY'});
      const m = out[1] as {frames: Buffer[]};
      expect(m.frames.map((f) => f.length)).toEqual([5, 8, 300]);
      expect(m.frames[2]!.equals(long)).toBe(true);
    }
  });

  it('refuses a peer that is not ZMTP, and reads endpoints', () => {
    expect(() => new ZmtpParser().push(Buffer.alloc(64, 0x41))).toThrow(/bad greeting/);
    expect(parseEndpoint('tcp://*:5557')).toEqual({host: '127.0.0.1', port: 5557});
    expect(parseEndpoint('tcp://[::1]:9')).toEqual({host: '::1', port: 9});
    expect(() => parseEndpoint('ipc:///tmp/x')).toThrow(/tcp:\/\/host:port/);
  });
});

// Against real libzmq: the zeromq addon (node only) is the engine's PUB and replay ROUTER.
describe('EngineEventSubscriber against libzmq', () => {
  const enc = new Encoder({useBigInt64: true});
  const seqBytes = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  /** A vLLM batch storing one 16-token block whose engine hash is `1000 + n`. */
  const batch = (n: number) => Buffer.from(enc.encode([1700000000.5, [['BlockStored', [BigInt(1000 + n)], null, Array.from({length: 16}, (_, i) => n * 16 + i), 16, null, 'GPU']], 0]));
  let hasher: DynamoBlockHasher;
  const closers: (() => void)[] = [];
  beforeAll(async () => {
    hasher = await DynamoBlockHasher.create(16);
  });
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  async function engine(replay: boolean) {
    const pub = new zmq.Publisher();
    await pub.bind('tcp://127.0.0.1:*');
    closers.push(() => pub.close());
    const sent = new Map<number, Buffer>();
    let replayEndpoint: string | undefined;
    if (replay) {
      const router = new zmq.Router();
      await router.bind('tcp://127.0.0.1:*');
      replayEndpoint = router.lastEndpoint!;
      closers.push(() => router.close());
      void (async () => {
        try {
          for await (const [id, , start] of router) {
            for (const [seq, payload] of [...sent].sort((a, b) => a[0] - b[0])) {
              if (BigInt(seq) >= start!.readBigUInt64BE(0)) await router.send([id!, '', seqBytes(seq), payload]);
            }
            await router.send([id!, '', Buffer.from('ffffffffffffffff', 'hex'), '']);
          }
        } catch {
          // closed
        }
      })();
    }
    const publish = async (seq: number, deliver = true) => {
      const payload = batch(seq);
      sent.set(seq, payload);
      if (deliver) await pub.send(['kv', seqBytes(seq), payload]);
    };
    const raw = (frames: (Buffer | string)[]) => pub.send(frames);
    return {endpoint: pub.lastEndpoint!, replayEndpoint, publish, raw};
  }

  function subscriber(endpoint: string, replayEndpoint?: string) {
    const seen: bigint[] = [];
    const resets: number[] = [];
    const s = new EngineEventSubscriber({
      endpoint,
      replayEndpoint,
      topic: 'kv',
      blockSize: 16,
      hasherFor: () => hasher,
      onEvents: (events: KvEventData[]) => {
        for (const e of events) if (e.type === 'stored') seen.push(...e.blocks.map((b) => b.blockHash - 1000n));
      },
      onReset: () => resets.push(seen.length),
    });
    closers.push(() => s.close());
    return {s, seen, resets};
  }

  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!cond()) throw new Error(`timed out waiting for ${what}`);
  };
  /** libzmq applies a new subscription asynchronously (the slow joiner): publish a probe until it arrives. */
  const joined = async (e: Awaited<ReturnType<typeof engine>>, sub: ReturnType<typeof subscriber>) => {
    for (let i = 0; i < 100 && !sub.seen.length; i++) {
      await e.publish(0);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(sub.seen[0]).toBe(0n);
  };

  it('receives 3-frame batches in order and turns them into router events with Dynamo hashes', async () => {
    const e = await engine(false);
    const sub = subscriber(e.endpoint);
    await joined(e, sub);
    for (const n of [1, 2, 3]) await e.publish(n);
    await until(() => sub.seen.length >= 4, 'batches 1–3');
    expect([...new Set(sub.seen)]).toEqual([0n, 1n, 2n, 3n]);
    expect(sub.s.stats).toMatchObject({gaps: 0, malformed: 0});
  });

  it('asks the engine to replay lost batches over DEALER, then goes on with the live ones', async () => {
    const e = await engine(true);
    const sub = subscriber(e.endpoint, e.replayEndpoint);
    await joined(e, sub);
    await e.publish(1);
    await e.publish(2, false); // lost
    await e.publish(3, false); // lost
    await e.publish(4);
    await until(() => sub.seen.includes(4n), 'batch 4');
    expect(sub.seen.slice(sub.seen.indexOf(1n))).toEqual([1n, 2n, 3n, 4n]);
    expect(sub.s.stats.gaps).toBe(1);
    expect(sub.s.stats.replayed).toBeGreaterThanOrEqual(2);
  });

  it('treats a sequence that goes back as an engine restart and forgets the engine’s blocks', async () => {
    const e = await engine(false);
    const sub = subscriber(e.endpoint);
    await joined(e, sub);
    await e.publish(5);
    await until(() => sub.seen.includes(5n), 'batch 5');
    await e.publish(1);
    await until(() => sub.seen.at(-1) === 1n, 'batch 1 after the restart');
    expect(sub.s.stats.restarts).toBe(1);
    expect(sub.resets).toHaveLength(1);
  });

  it('skips malformed messages and batches, counting them, and keeps going', async () => {
    const e = await engine(false);
    const sub = subscriber(e.endpoint);
    await joined(e, sub);
    await e.raw(['kv', seqBytes(1), Buffer.from('c1', 'hex')]); // not msgpack
    await e.raw(['kv', Buffer.from('01', 'hex'), batch(2)]); // a seq that is not 8 bytes
    await e.raw(['kv', seqBytes(2)]); // two frames
    await e.publish(3);
    await until(() => sub.seen.includes(3n), 'batch 3');
    expect(sub.s.stats.malformed).toBe(3);
    expect(sub.seen).not.toContain(2n);
  });
});
