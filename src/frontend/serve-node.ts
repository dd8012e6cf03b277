/**
 * The frontend app on node:http (or https): what tests and `npm run dev` run, where there is no
 * Bun. The same app, routes and framing as the binary's Bun.serve (serve-bun.ts).
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http';
import {createServer as createTlsServer} from 'node:https';
import {UserError} from '../shared/errors.js';
import {ServeError, toServeError} from './errors.js';
import {type HttpApp, type HttpReply, type HttpRequest, errorReply} from './http.js';
import type {Listening, ListenOptions} from './listen.js';

function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new ServeError('payload_too_large', `request body of ${declared} bytes exceeds the ${limit}-byte limit`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new ServeError('payload_too_large', `request body exceeds the ${limit}-byte limit`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function write(res: ServerResponse, reply: HttpReply): Promise<void> {
  if ('body' in reply) {
    res.writeHead(reply.status, {...reply.headers, 'content-length': Buffer.byteLength(reply.body)});
    res.end(reply.body);
    return;
  }
  res.writeHead(reply.status, reply.headers);
  const it = reply.stream[Symbol.asyncIterator]();
  // A client that leaves ends the stream: the app's generator runs its cleanup (cancel, metrics).
  res.on('close', () => void it.return?.());
  for (let r = await it.next(); !r.done; r = await it.next()) {
    if (res.destroyed) break;
    res.write(r.value);
  }
  res.end();
}

/** node:http's handler for the app (tests mount it on their own server). */
export function nodeHandler(app: HttpApp): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      header: (name) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      },
      text: (limit) => readText(req, limit),
      signal: gone.signal,
    };
    app(request)
      .catch((e) => errorReply(toServeError(e)))
      .then((reply) => write(res, reply))
      .catch(() => res.destroy());
  };
}

export async function serveWithNode(app: HttpApp, opts: ListenOptions): Promise<Listening> {
  const handler = nodeHandler(app);
  let server: Server;
  try {
    server = opts.tls ? (createTlsServer({cert: opts.tls.cert, key: opts.tls.key}, handler) as unknown as Server) : createServer(handler);
  } catch (e) {
    throw new UserError(`the TLS certificate and key do not make a server: ${(e as Error).message}`, 'give a PEM certificate and its own private key');
  }
  server.keepAliveTimeout = opts.idleTimeoutS * 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError(`port ${opts.port} on ${opts.host} is already in use`, 'stop what holds it, or choose another with --port') : e),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as {port: number}).port,
    stopAccepting: () => {
      server.close();
      server.closeIdleConnections();
    },
    closeAll: () => server.closeAllConnections(),
  };
}
