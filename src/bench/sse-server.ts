/**
 * A minimal OpenAI-style streaming server for testing and calibrating the load generator: replies
 * with `max_tokens` one-word chunks, optionally after a delay, or misbehaves on request (`fault`).
 * With no delays it is the "infinitely fast" server `npm run bench:loadgen` measures against.
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http';
import type {AddressInfo} from 'node:net';

export type Fault = 'http_500' | 'hang' | 'cut' | 'stream_error' | 'bad_json';

export interface SseServerOptions {
  firstTokenMs?: number;
  tokenMs?: number;
  /** Chooses a fault per request body (default: none). */
  fault?: (body: Record<string, any>) => Fault | undefined;
  /** Called when a request arrives, before any reply (tests use it to hold replies). */
  onRequest?: (body: Record<string, any>) => Promise<void> | void;
}

export interface SseServer {
  url: string;
  /** Requests in flight now, and the most at once. */
  inflight: () => number;
  maxInflight: () => number;
  received: () => number;
  close: () => Promise<void>;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

function chunk(res: ServerResponse, o: unknown): void {
  res.write(`data: ${JSON.stringify(o)}\n\n`);
}

export async function startSseServer(opts: SseServerOptions = {}): Promise<SseServer> {
  let inflight = 0;
  let max = 0;
  let received = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({object: 'list', data: [{id: 'test-model', object: 'model'}]}));
      return;
    }
    let raw = '';
    for await (const c of req) raw += c;
    const body = JSON.parse(raw || '{}') as Record<string, any>;
    received++;
    inflight++;
    max = Math.max(max, inflight);
    try {
      await opts.onRequest?.(body);
      const fault = opts.fault?.(body);
      if (fault === 'http_500') {
        res.writeHead(500, {'content-type': 'application/json'}).end(JSON.stringify({error: {message: 'engine failed', type: 'internal_error'}}));
        return;
      }
      res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache'});
      if (fault === 'hang') {
        await new Promise<void>((r) => res.on('close', () => r()));
        return;
      }
      const chat = req.url?.includes('chat');
      const n = Number(body.max_tokens ?? 16);
      await sleep(opts.firstTokenMs ?? 0);
      for (let i = 0; i < n; i++) {
        if (i) await sleep(opts.tokenMs ?? 0);
        if (fault === 'cut' && i === 1) {
          await sleep(20); // the first chunk reaches the client before the connection breaks
          res.destroy();
          return;
        }
        if (fault === 'stream_error' && i === 1) {
          chunk(res, {error: {message: 'worker lost', code: 503}});
          res.end();
          return;
        }
        if (fault === 'bad_json' && i === 1) res.write('data: {not json\n\n');
        const word = ` w${i}`;
        chunk(res, chat ? {choices: [{index: 0, delta: {content: word}}]} : {choices: [{index: 0, text: word}]});
      }
      chunk(res, {choices: [], usage: {prompt_tokens: 10, completion_tokens: n, total_tokens: 10 + n}});
      res.end('data: [DONE]\n\n');
    } finally {
      inflight--;
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    inflight: () => inflight,
    maxInflight: () => max,
    received: () => received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
