/**
 * The frontend app on `Bun.serve`: what the binary runs. Bun parses HTTP natively and writes
 * strings without a copy through JS streams; the app's reply becomes a Response (a stream reply:
 * an async-iterable body Bun pulls chunk by chunk, flushing each).
 */
import {UserError} from '../shared/errors.js';
import {ServeError, toServeError} from './errors.js';
import {type HttpApp, type HttpReply, type HttpRequest, errorReply} from './http.js';
import type {Listening, ListenOptions} from './listen.js';

type BunServer = {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
  timeout?(req: Request, seconds: number): void;
  pendingRequests: number;
};

/** The body within `limit` bytes: a declared length is checked first, a chunked body as it comes. */
async function readText(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw new ServeError('payload_too_large', `request body of ${declared} bytes exceeds the ${limit}-byte limit`);
  if (Number.isFinite(declared) || !req.body) return req.text();
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const c of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += c.length;
    if (size > limit) throw new ServeError('payload_too_large', `request body exceeds the ${limit}-byte limit`);
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}

function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const q = url.indexOf('?', start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

function toResponse(reply: HttpReply): Response {
  if ('body' in reply) return new Response(reply.body, {status: reply.status, headers: reply.headers});
  // Bun takes an async iterable as a streaming body.
  return new Response(reply.stream as never, {status: reply.status, headers: reply.headers});
}

export async function serveWithBun(app: HttpApp, opts: ListenOptions): Promise<Listening> {
  const Bun = (globalThis as {Bun?: {serve(o: unknown): BunServer; file(p: string): unknown}}).Bun!;
  let server: BunServer;
  try {
    server = Bun.serve({
      hostname: opts.host,
      port: opts.port,
      ...(opts.tls ? {tls: {cert: opts.tls.cert, key: opts.tls.key}} : {}),
      // The app enforces the body limit itself, with an OpenAI 413 (Bun's own refusal has no body).
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: opts.idleTimeoutS,
      async fetch(req: Request, srv: BunServer) {
        const request: HttpRequest = {
          method: req.method,
          path: pathOf(req.url),
          header: (name) => req.headers.get(name) ?? undefined,
          text: (limit) => readText(req, limit),
          signal: req.signal,
        };
        const reply = await app(request).catch((e) => errorReply(toServeError(e)));
        // A stream may be silent for longer than the idle timeout (a long prefill in a queue).
        if ('stream' in reply) srv.timeout?.(req, 0);
        return toResponse(reply);
      },
      error: (e: Error) => toResponse(errorReply(toServeError(e))),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || /in use/i.test((e as Error).message)) {
      throw new UserError(`port ${opts.port} on ${opts.host} is already in use`, 'stop what holds it, or choose another with --port');
    }
    if (opts.tls) throw new UserError(`the TLS certificate and key do not make a server: ${(e as Error).message}`, 'give a PEM certificate and its own private key');
    throw e;
  }
  return {
    port: server.port,
    stopAccepting: () => void server.stop(false),
    closeAll: () => void server.stop(true),
  };
}
