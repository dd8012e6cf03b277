import {type Server, createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {ServeError} from './errors.js';
import {SSE_DONE, openSse, sseEvent} from './sse.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** Serves one SSE response written by `write`, and returns what a client receives. */
async function receive(write: (sse: ReturnType<typeof openSse>) => void) {
  const server = createServer((_req, res) => write(openSse(res, {'x-request-id': 'req-1'})));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  return {status: res.status, headers: res.headers, body: await res.text()};
}

describe('SSE framing', () => {
  it('frames each event as one data line and ends with [DONE]', () => {
    expect(sseEvent({a: 1, s: 'x\ny'})).toBe('data: {"a":1,"s":"x\\ny"}\n\n');
    expect(SSE_DONE).toBe('data: [DONE]\n\n');
  });

  it('a client receives the event-stream headers, the events in order, then [DONE]', async () => {
    const got = await receive((sse) => {
      sse.send({n: 1});
      sse.send({n: 2});
      sse.done();
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('text/event-stream');
    expect(got.headers.get('cache-control')).toBe('no-cache');
    expect(got.headers.get('x-request-id')).toBe('req-1');
    expect(got.body).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
  });

  it('a failure mid-stream arrives as an OpenAI error event before [DONE]', async () => {
    const got = await receive((sse) => {
      sse.send({n: 1});
      sse.error(new ServeError('worker_gone', 'worker w1 went away'));
      sse.done();
      sse.done(); // ending twice writes nothing more
    });
    expect(got.body).toBe(
      'data: {"n":1}\n\ndata: {"error":{"message":"worker w1 went away","type":"server_error","param":null,"code":"worker_gone"}}\n\ndata: [DONE]\n\n',
    );
  });
});
