/**
 * Worker side of the request plane: accepts connections, runs one handler per request stream,
 * sends its output as data frames within the client's credit, and aborts the handler when the
 * client cancels or the connection drops. With a token (token.ts), a connection's first frame
 * must carry it: anything else is answered with one `unauthorized` error and the connection closed.
 * `flushed()` says whether every frame handed out so far has left the process: a draining worker
 * exits only then (frames wait for the end of the event loop's turn, and a stream's handler ends
 * before its last frames are written).
 */
import {type Server, type Socket, createServer} from 'node:net';
import {type ClientFrame, FrameReader, INITIAL_CREDIT, encodeFrame} from './frames.js';
import {tokenMatches} from './token.js';

export interface RequestContext {
  signal: AbortSignal;
  /**
   * Says this stream is a subscription (an event feed open for the connection's life), not a
   * request: a request that ends while no other request is open then leaves at once.
   */
  subscription?(): void;
}

export type StreamHandler = (body: unknown, ctx: RequestContext) => AsyncIterable<unknown>;

/** An error a handler throws to send a typed failure to the client. */
export class StreamError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

interface ServerStream {
  abort: AbortController;
  credit: number;
  wake?: () => void;
  subscription?: boolean;
}

/** A request-plane listener that can tell whether anything it was asked to send is still in the process. */
export type RequestPlaneServer = Server & {flushed(): boolean};

/** Serves one connection; returns what it still holds, 0 once nothing waits to be written (frames for the turn's write, bytes the socket buffers). */
function serveConnection(socket: Socket, handler: StreamHandler, token: string | undefined): () => number {
  socket.setNoDelay(true);
  const reader = new FrameReader();
  const streams = new Map<number, ServerStream>();
  let closed = false;
  let trusted = token === undefined;
  // Frames sent in one turn of the event loop (an engine step's tokens for every stream, a stream's
  // last token and its end) leave in one write: one syscall, one read on the other side. A request
  // that ends while no other is open has nothing to wait for: its frames (and any events pending
  // for the connection's subscriptions) leave at once.
  let pending: Buffer[] = [];
  let openRequests = 0;
  const flush = () => {
    if (!pending.length) return;
    const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    if (!closed) socket.write(out);
  };
  const send = (f: Parameters<typeof encodeFrame>[0]) => {
    if (closed) return;
    if (!pending.length) setImmediate(flush);
    pending.push(encodeFrame(f));
    if (f.t !== 'data' && openRequests <= 1) flush();
  };

  const run = async (id: number, body: unknown, s: ServerStream) => {
    openRequests++;
    const subscription = () => {
      if (!s.subscription) openRequests--;
      s.subscription = true;
    };
    try {
      for await (const item of handler(body, {signal: s.abort.signal, subscription})) {
        if (s.abort.signal.aborted) break;
        while (s.credit <= 0 && !s.abort.signal.aborted) await new Promise<void>((r) => (s.wake = r));
        if (s.abort.signal.aborted) break;
        s.credit--;
        send({t: 'data', id, body: item});
      }
      if (!s.abort.signal.aborted) send({t: 'end', id});
    } catch (e) {
      if (!s.abort.signal.aborted) {
        const kind = e instanceof StreamError ? e.kind : 'internal';
        send({t: 'error', id, error: {kind, message: (e as Error).message}});
      }
    } finally {
      if (!s.subscription) openRequests--;
      streams.delete(id);
    }
  };

  socket.on('data', (chunk) => {
    let frames: unknown[];
    try {
      frames = reader.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const raw of frames) {
      const f = raw as ClientFrame;
      if (!trusted) {
        if (f.t === 'hello' && tokenMatches(token!, f.token)) {
          trusted = true;
          continue;
        }
        closed = true;
        socket.end(
          encodeFrame({t: 'error', id: f.t === 'req' ? f.id : 0, error: {kind: 'unauthorized', message: 'this worker takes connections from its own deployment only (the request-plane token is missing or wrong)'}}),
        );
        return;
      }
      if (f.t === 'hello') continue;
      if (f.t === 'req') {
        const s: ServerStream = {abort: new AbortController(), credit: INITIAL_CREDIT};
        streams.set(f.id, s);
        void run(f.id, f.body, s);
      } else if (f.t === 'cancel') {
        const s = streams.get(f.id);
        s?.abort.abort();
        s?.wake?.();
      } else if (f.t === 'credit') {
        const s = streams.get(f.id);
        if (s) {
          s.credit += f.n;
          s.wake?.();
        }
      }
    }
  });
  const drop = () => {
    closed = true;
    for (const s of streams.values()) {
      s.abort.abort();
      s.wake?.();
    }
  };
  socket.on('close', drop);
  socket.on('error', drop);
  return () => (closed ? 0 : pending.length + socket.writableLength);
}

export function serveRequestPlane(handler: StreamHandler, port: number, host = '127.0.0.1', opts: {token?: string} = {}): Promise<RequestPlaneServer> {
  const held = new Set<() => number>();
  const server = Object.assign(
    createServer((socket) => {
      const unsent = serveConnection(socket, handler, opts.token);
      held.add(unsent);
      socket.once('close', () => held.delete(unsent));
    }),
    {flushed: () => [...held].every((unsent) => unsent() === 0)},
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
