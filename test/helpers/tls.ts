/**
 * TLS for tests: a self-signed certificate for 127.0.0.1 made with openssl, and a `fetch` for the
 * openai client that trusts it (the default fetch trusts only the system's CAs).
 */
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {request} from 'node:https';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {tempDir} from './processes.js';

export function selfSignedCert(): {cert: string; key: string; pem: string} {
  const dir = tempDir('dyn-tls-');
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {stdio: 'ignore'});
  return {cert, key, pem: readFileSync(cert, 'utf8')};
}

/** fetch over node:https trusting `ca` only: enough for the openai client (status, headers, a streamed body). */
export function fetchTrusting(ca: string): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, {method: init?.method ?? 'GET', headers, ca}, (res) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(Readable.toWeb(res) as ReadableStream, {status: res.statusCode, headers: h}));
      });
      req.on('error', reject);
      init?.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')), {once: true});
      if (typeof init?.body === 'string') req.write(init.body);
      req.end();
    });
  }) as typeof fetch;
}
