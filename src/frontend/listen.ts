/**
 * Opens the frontend's port: `Bun.serve` when running on Bun (the binary), node:http otherwise.
 * TLS files are read here, before the port opens: a wrong path is the user's to fix.
 */
import {readFileSync} from 'node:fs';
import {UserError} from '../shared/errors.js';
import type {HttpApp} from './http.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** PEM contents. */
  tls?: {cert: string; key: string};
  /** Idle keep-alive connections close after this long (streams in progress are exempt). */
  idleTimeoutS: number;
}

export interface Listening {
  port: number;
  /** Takes no new connections; requests in flight go on. */
  stopAccepting(): void;
  /** Closes every connection now. */
  closeAll(): void;
}

export function readTlsFiles(tls: {cert: string; key: string}): {cert: string; key: string} {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give PEM files with --tls-cert and --tls-key (frontend.tlsCert, frontend.tlsKey)');
    }
  };
  return {cert: read(tls.cert, 'certificate'), key: read(tls.key, 'key')};
}

export async function listen(app: HttpApp, opts: ListenOptions): Promise<Listening> {
  if ('Bun' in globalThis) return (await import('./serve-bun.js')).serveWithBun(app, opts);
  return (await import('./serve-node.js')).serveWithNode(app, opts);
}
