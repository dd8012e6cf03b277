import type {Server, Socket} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {withTimeout} from '../../../test/helpers/gates.js';
import {RequestPlaneError, WorkerConnection} from './client.js';
import {FrameReader, encodeFrame} from './frames.js';
import {type RequestPlaneServer, StreamError, serveRequestPlane} from './server.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(handler: Parameters<typeof serveRequestPlane>[0]) {
  const server = await serveRequestPlane(handler, 0);
  servers.push(server);
  return new WorkerConnection('127.0.0.1', (server.address() as {port: number}).port);
}

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('frames', () => {
  it('decode across arbitrary chunk boundaries', () => {
    const bytes = Buffer.concat([encodeFrame({t: 'req', id: 1, body: {a: 'x'.repeat(300)}}), encodeFrame({t: 'cancel', id: 2})]);
    const r = new FrameReader();
    const got: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 7) got.push(...r.push(bytes.subarray(i, i + 7)));
    expect(got).toEqual([{t: 'req', id: 1, body: {a: 'x'.repeat(300)}}, {t: 'cancel', id: 2}]);
  });

  it('carry long arrays of token ids packed, and decode them to the same plain arrays', () => {
    const ids = Array.from({length: 1000}, (_, i) => (i * 2654435761) >>> 0);
    const bodies = [
      {tokenIds: ids, rest: [1, 2, 3]},
      {mixed: [...ids.slice(0, 40), -1], floats: [...ids.slice(0, 40), 0.5], big: [...ids.slice(0, 40), 2 ** 32], short: ids.slice(0, 31)},
    ];
    const plain = Buffer.byteLength(JSON.stringify(ids)); // msgpack spends up to 5 bytes an id; packed: 4
    for (const body of bodies) {
      const bytes = encodeFrame({t: 'req', id: 7, body});
      const r = new FrameReader();
      // Odd chunk sizes: the packed words arrive unaligned.
      const got: unknown[] = [];
      for (let i = 0; i < bytes.length; i += 13) got.push(...r.push(bytes.subarray(i, i + 13)));
      expect(got).toEqual([{t: 'req', id: 7, body}]);
      expect(Array.isArray((got[0] as {body: Record<string, unknown>}).body[Object.keys(body)[0]!])).toBe(true);
    }
    expect(encodeFrame({t: 'req', id: 7, body: {tokenIds: ids}}).length).toBeLessThan(4 * ids.length + 64);
    expect(plain).toBeGreaterThan(4 * ids.length);
  });
});

describe('request plane', () => {
  it('multiplexes concurrent streams on one connection', async () => {
    const conn = await serve(async function* (body) {
      const {n, tag} = body as {n: number; tag: string};
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setImmediate(r)); // let the other stream's handler run in between
        yield `${tag}${i}`;
      }
    });
    const [a, b] = await Promise.all([collect(conn.call({n: 5, tag: 'a'})), collect(conn.call({n: 3, tag: 'b'}))]);
    expect(a).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(b).toEqual(['b0', 'b1', 'b2']);
    conn.close();
  });

  it('streams more items than the initial credit (credit is replenished)', async () => {
    const conn = await serve(async function* () {
      for (let i = 0; i < 2000; i++) yield i;
    });
    expect((await collect(conn.call({}))).length).toBe(2000);
    conn.close();
  });

  it('cancels the handler when the caller aborts', async () => {
    let handlerAborted!: () => void;
    const aborted = new Promise<void>((r) => (handlerAborted = r));
    const conn = await serve(async function* (_b, ctx) {
      ctx.signal.addEventListener('abort', () => handlerAborted());
      for (let i = 0; ; i++) {
        yield i;
        await new Promise((r) => setImmediate(r));
        if (ctx.signal.aborted) return;
      }
    });
    const ac = new AbortController();
    const got: unknown[] = [];
    await expect(
      (async () => {
        for await (const x of conn.call({}, ac.signal)) {
          got.push(x);
          if (got.length === 3) ac.abort();
        }
      })(),
    ).rejects.toMatchObject({kind: 'cancelled'});
    await withTimeout(aborted, 2000, "the worker's handler to see the cancel");
    conn.close();
  });

  it('passes typed errors from the worker', async () => {
    const conn = await serve(async function* () {
      yield 1;
      throw new StreamError('invalid_request', 'max_tokens must be set');
    });
    await expect(collect(conn.call({}))).rejects.toMatchObject({kind: 'invalid_request', message: 'max_tokens must be set'});
    conn.close();
  });

  it('fails open streams with worker_gone when the worker vanishes mid-stream', async () => {
    const server = await serveRequestPlane(async function* () {
      yield 'first';
      await new Promise(() => {});
    }, 0);
    servers.push(server);
    const sockets: Socket[] = [];
    server.on('connection', (s) => sockets.push(s));
    const conn = new WorkerConnection('127.0.0.1', (server.address() as {port: number}).port);
    const it = conn.call({});
    expect((await it.next()).value).toBe('first');
    const pending = it.next();
    for (const s of sockets) s.destroy(); // the worker process dies
    await expect(pending).rejects.toMatchObject({kind: 'worker_gone'});
    await expect(pending).rejects.toBeInstanceOf(RequestPlaneError);
  });

  it('is flushed only once a finished stream has written its last frames (a draining worker exits then)', async () => {
    const atHandlerEnd: boolean[] = [];
    const server: RequestPlaneServer = await serveRequestPlane(async function* () {
      try {
        yield 1;
        yield 2;
      } finally {
        atHandlerEnd.push(server.flushed());
      }
    }, 0);
    servers.push(server);
    const conn = new WorkerConnection('127.0.0.1', (server.address() as {port: number}).port);
    expect(await collect(conn.call({}))).toEqual([1, 2]);
    // The handler was done while its frames waited for the turn's one write.
    expect(atHandlerEnd).toEqual([false]);
    expect(server.flushed()).toBe(true);
    conn.close();
  });

  it('sends a request that ends alone at once, an open subscription beside it or not; one that ends beside another waits for the turn\'s one write', async () => {
    const nextTurn: Record<string, boolean> = {};
    let bStarted!: () => void;
    const started = new Promise<void>((r) => (bStarted = r));
    let releaseB!: () => void;
    const released = new Promise<void>((r) => (releaseB = r));
    const server: RequestPlaneServer = await serveRequestPlane(async function* (body, ctx) {
      const {name, subscribe} = body as {name: string; subscribe?: boolean};
      if (subscribe) {
        ctx.subscription?.();
        yield 'subscribed';
        await new Promise((r) => ctx.signal.addEventListener('abort', r));
        return;
      }
      if (name === 'a') await started; // a ends while b is open
      if (name === 'b') {
        bStarted();
        await released;
      }
      // Runs in the turn after the one that ends this request: were its frames written by then?
      setImmediate(() => (nextTurn[name] = server.flushed()));
      yield name;
    }, 0);
    servers.push(server);
    const conn = new WorkerConnection('127.0.0.1', (server.address() as {port: number}).port);
    const stop = new AbortController();
    const feed = conn.call({subscribe: true}, stop.signal)[Symbol.asyncIterator]();
    expect((await feed.next()).value).toBe('subscribed');
    expect(await collect(conn.call({name: 'alone'}))).toEqual(['alone']);
    const b = collect(conn.call({name: 'b'}));
    expect(await collect(conn.call({name: 'a'}))).toEqual(['a']);
    releaseB();
    expect(await b).toEqual(['b']);
    expect(nextTurn).toEqual({alone: true, a: false, b: true});
    stop.abort();
    conn.close();
  });

  it('reports an unreachable worker', async () => {
    const conn = new WorkerConnection('127.0.0.1', 1);
    await expect(collect(conn.call({}))).rejects.toMatchObject({kind: 'worker_unreachable'});
  });

  it('with a token, serves only connections that present it first', async () => {
    const server = await serveRequestPlane(async function* () {
      yield 'secret work';
    }, 0, '127.0.0.1', {token: 'right-token'});
    servers.push(server);
    const port = (server.address() as {port: number}).port;
    const kindOf = async (conn: WorkerConnection) => {
      try {
        await collect(conn.call({}));
        return 'served';
      } catch (e) {
        return (e as RequestPlaneError).kind;
      } finally {
        conn.close();
      }
    };
    expect(await kindOf(new WorkerConnection('127.0.0.1', port, {token: 'right-token'}))).toBe('served');
    // No token: the request itself is refused by name; a wrong one closes the connection.
    expect(await kindOf(new WorkerConnection('127.0.0.1', port))).toBe('unauthorized');
    expect(await kindOf(new WorkerConnection('127.0.0.1', port, {token: 'wrong-token'}))).toBe('worker_gone');
  });
});
