// Our ZMTP sockets against real libzmq: the zeromq addon (it runs under node, not Bun) plays the engine.
import {mkdtempSync, rmSync} from 'node:fs';
import {type Server, type Socket, createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {Inbox, withTimeout} from '../../../test/helpers/gates.js';
import {encodeCommand, encodeGreeting, encodeProperties} from './zmtp-codec.js';
import {ZmtpSocket, type ZmtpSocketOptions, parseEndpoint} from './zmtp.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const fast = {reconnectMs: 20, maxReconnectMs: 100};

function ours(opts: Omit<ZmtpSocketOptions, 'onMessage'>) {
  const messages = new Inbox<Buffer[]>();
  const disconnects = new Inbox<string>();
  const connects = new Inbox<true>();
  const s = new ZmtpSocket({...fast, ...opts, onMessage: messages.push, onDisconnect: disconnects.push, onConnect: () => connects.push(true)});
  cleanups.push(() => s.close());
  return {s, messages, disconnects, connects};
}

/** A libzmq XPUB: unlike PUB it tells us when a subscription arrived, so tests publish only after it. */
async function xpub(endpoint = 'tcp://127.0.0.1:*') {
  const pub = new zmq.XPublisher({linger: 0});
  await pub.bind(endpoint);
  cleanups.push(() => pub.close());
  const subscribed = async () => (await withTimeout(pub.receive(), 3000, 'a subscription at the XPUB'))[0]!;
  return {pub, endpoint: pub.lastEndpoint!, subscribed};
}

async function router(endpoint = 'tcp://127.0.0.1:*') {
  const r = new zmq.Router({linger: 0});
  await r.bind(endpoint);
  cleanups.push(() => r.close());
  return r;
}

/** A plain TCP server standing in for something that is not a ZMQ socket. */
async function tcpServer(onConnection: (c: Socket) => void): Promise<string> {
  const server: Server = createServer(onConnection);
  const sockets: Socket[] = [];
  server.on('connection', (c) => sockets.push(c));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const c of sockets) c.destroy();
    return new Promise((r) => server.close(r));
  });
  return `tcp://127.0.0.1:${(server.address() as {port: number}).port}`;
}

describe('ZMTP SUB against a libzmq publisher', () => {
  it('subscribes to a topic prefix and receives whole multipart messages, long frames included', async () => {
    const x = await xpub();
    const sub = ours({type: 'SUB', endpoint: x.endpoint, subscribe: ['kv']});
    expect((await x.subscribed()).toString('hex')).toBe('016b76'); // 1 + "kv": the 3.0 form libzmq takes
    const big = Buffer.alloc(100_000, 3);
    await x.pub.send(['other', 'x']);
    await x.pub.send(['kv-events', Buffer.alloc(8), big]);
    await x.pub.send(['kv', '']);
    const first = await sub.messages.next('the kv-events message');
    expect(first.map((f) => f.length)).toEqual([9, 8, 100_000]);
    expect(first[2]!.equals(big)).toBe(true);
    expect((await sub.messages.next('the kv message')).map(String)).toEqual(['kv', '']);
    expect(sub.messages.items).toHaveLength(2); // "other" was filtered by the publisher
    expect(sub.s.connected).toBe(true);
  });

  it('reconnects and subscribes again when the publisher goes away and comes back on the same port', async () => {
    const x = await xpub();
    const sub = ours({type: 'SUB', endpoint: x.endpoint, subscribe: ['']});
    await x.subscribed();
    await x.pub.send(['', 'before']);
    await sub.messages.next('a message before the restart');
    x.pub.close();
    expect(await sub.disconnects.next('the disconnect')).toMatch(/closed/);
    const again = await xpub(x.endpoint);
    expect((await again.subscribed()).toString('hex')).toBe('01');
    await again.pub.send(['', 'after']);
    expect((await sub.messages.next('a message after the restart')).map(String)).toEqual(['', 'after']);
    expect(sub.connects.items).toHaveLength(2);
  });

  it('works over ipc:// too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zmtp-'));
    cleanups.push(() => rmSync(dir, {recursive: true, force: true}));
    const x = await xpub(`ipc://${join(dir, 'kv.sock')}`);
    const sub = ours({type: 'SUB', endpoint: x.endpoint, subscribe: ['']});
    await x.subscribed();
    await x.pub.send(['t', 'over ipc']);
    expect((await sub.messages.next('an ipc message')).map(String)).toEqual(['t', 'over ipc']);
  });
});

describe('ZMTP DEALER against a libzmq ROUTER', () => {
  it('sends and receives multipart messages; what it sends before the peer exists goes out once it does', async () => {
    const port = Number(/:(\d+)$/.exec(await tcpServer(() => {}))![1]);
    await cleanups.pop()!(); // free the port again: nobody listens there now
    const endpoint = `tcp://127.0.0.1:${port}`;
    const dealer = ours({type: 'DEALER', endpoint});
    dealer.s.send(['', Buffer.from('0000000000000005', 'hex')]);
    await dealer.disconnects.next('a refused connection');
    const r = await router(endpoint);
    const [id, empty, start] = await withTimeout(r.receive(), 3000, 'the request at the ROUTER');
    expect([empty!.length, start!.toString('hex')]).toEqual([0, '0000000000000005']);
    await r.send([id!, '', 'reply', Buffer.alloc(1000, 1)]);
    const reply = await dealer.messages.next('the reply');
    expect(reply.map((f) => f.length)).toEqual([0, 5, 1000]);
  });
});

describe('ZMTP sockets facing the wrong peer', () => {
  it('says why when pointed at a socket of the wrong type (a SUB at the replay ROUTER, a DEALER at the PUB)', async () => {
    const r = await router();
    const sub = ours({type: 'SUB', endpoint: r.lastEndpoint!, subscribe: ['']});
    expect(await sub.disconnects.next('the refusal')).toMatch(/socket types do not match: a SUB needs a PUB or XPUB endpoint/);
    const x = await xpub();
    const dealer = ours({type: 'DEALER', endpoint: x.endpoint});
    expect(await dealer.disconnects.next('the refusal')).toMatch(/a DEALER needs a DEALER or ROUTER or REP endpoint/);
  });

  it('drops a peer that accepts TCP but never greets, and one that answers with something else', async () => {
    const silent = ours({type: 'SUB', endpoint: await tcpServer(() => {}), handshakeTimeoutMs: 100});
    expect(await silent.disconnects.next('the handshake timeout')).toMatch(/no ZMTP handshake/);
    const http = ours({type: 'SUB', endpoint: await tcpServer((c) => c.end(`HTTP/1.1 400 Bad Request\r\n${'x'.repeat(80)}\r\n\r\n`))});
    expect(await http.disconnects.next('the refusal')).toMatch(/not a ZMTP socket/);
  });

  it('answers PING, and refuses a READY of the wrong type, an ERROR, and security it does not speak', async () => {
    const ready = (type: string) => encodeCommand('READY', encodeProperties({'Socket-Type': type}));
    const pongs = new Inbox<Buffer>();
    const pinging = ours({
      type: 'SUB',
      endpoint: await tcpServer((c) => {
        c.write(Buffer.concat([encodeGreeting(), ready('PUB'), encodeCommand('PING', Buffer.from('0064abcd', 'hex'))]));
        c.on('data', (d) => pongs.push(d));
      }),
    });
    await pinging.connects.next('the handshake');
    await pongs.until(() => Buffer.concat(pongs.items).includes(encodeCommand('PONG', Buffer.from('abcd', 'hex'))), 'the PONG');
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([encodeGreeting(), ready('ROUTER')]), /is a ROUTER socket; a SUB needs one of PUB, XPUB/],
      [Buffer.concat([encodeGreeting(), encodeCommand('ERROR', Buffer.from('\x0cnot allowed!'))]), /refused the connection: not allowed!/],
      [Buffer.concat([encodeGreeting().fill(0, 12, 32).fill('PLAIN', 12, 17)]), /wants PLAIN security/],
    ];
    for (const [wire, why] of cases) {
      const s = ours({type: 'SUB', endpoint: await tcpServer((c) => c.write(wire))});
      expect(await s.disconnects.next(String(why))).toMatch(why);
    }
  });

  it('stops reconnecting once closed', async () => {
    const accepted = new Inbox<Socket>();
    const endpoint = await tcpServer(accepted.push);
    const s = ours({type: 'SUB', endpoint, handshakeTimeoutMs: 50});
    await accepted.next('the first connection');
    await s.s.close();
    await expect(accepted.next('another connection', 300)).rejects.toThrow(/timed out/);
  });

  it('rejects endpoints it cannot reach at once', () => {
    expect(parseEndpoint('tcp://*:5557')).toEqual({host: '127.0.0.1', port: 5557});
    expect(parseEndpoint('tcp://[::1]:9')).toEqual({host: '::1', port: 9});
    expect(parseEndpoint('ipc:///tmp/x')).toEqual({path: '/tmp/x'});
    expect(() => new ZmtpSocket({type: 'SUB', endpoint: 'inproc://x', onMessage: () => {}})).toThrow(/not a tcp:\/\/host:port/);
  });
});
