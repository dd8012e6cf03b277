/**
 * GET a /metrics page over keep-alive connections, with a deadline, failing with a short reason a
 * person can read in the source table ("connection refused", "timeout", "HTTP 503").
 *
 * node:http rather than fetch: at one scrape per source per second the whole `top` must stay under
 * a few percent of a core, and a plain request on a kept-alive socket is the cheapest way there.
 * No Accept-Encoding: local pages are cheaper to read plain than to inflate.
 */
import http from 'node:http';
import https from 'node:https';

/** Pages larger than this are refused (a misdirected URL serving a file, say). */
export const MAX_PAGE_BYTES = 32 * 1024 * 1024;

export type FetchText = (url: string, timeoutMs: number) => Promise<string>;

export interface HttpScraper {
  fetchText: FetchText;
  /** Closes the kept-alive sockets. */
  close(): void;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timeout',
};

/** The short reason for a failed scrape. */
export function scrapeErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && REASONS[code]) return REASONS[code];
  if (code) return code;
  return e instanceof Error ? e.message : String(e);
}

/** An error from a request sent on a kept-alive socket the server had just closed: worth one retry. */
class StaleSocket extends Error {}

export function createHttpScraper(): HttpScraper {
  const agents = {
    'http:': new http.Agent({keepAlive: true, maxSockets: 2}),
    'https:': new https.Agent({keepAlive: true, maxSockets: 2}),
  };
  const attempt = (u: URL, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const proto = u.protocol === 'https:' ? 'https:' : 'http:';
      const lib = proto === 'https:' ? https : http;
      let done = false;
      const finish = (err: Error | undefined, text?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(text!);
      };
      const req = lib.get(u, {agent: agents[proto], headers: {accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1'}}, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return finish(new Error(`HTTP ${res.statusCode}`));
        }
        // Bytes kept as they come and decoded once: cheaper than a string decoder per chunk.
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          bytes += chunk.length;
          if (bytes > MAX_PAGE_BYTES) {
            req.destroy();
            finish(new Error('page too large'));
          }
        });
        res.on('end', () => finish(undefined, Buffer.concat(chunks, bytes).toString('utf8')));
        res.on('error', (e) => finish(new Error(scrapeErrorReason(e))));
      });
      const timer = setTimeout(() => {
        finish(new Error('timeout'));
        req.destroy();
      }, timeoutMs);
      req.on('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        finish(req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') ? new StaleSocket(scrapeErrorReason(e)) : new Error(scrapeErrorReason(e)));
      });
    });
  const fetchText: FetchText = async (url, timeoutMs) => {
    const u = new URL(url);
    const started = Date.now();
    try {
      return await attempt(u, timeoutMs);
    } catch (e) {
      // The server closed the idle socket as we reused it (its keep-alive timeout, or a restart): once more on a fresh one.
      if (!(e instanceof StaleSocket)) throw e;
      return attempt(u, Math.max(1, timeoutMs - (Date.now() - started)));
    }
  };
  return {
    fetchText,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/** Why a fetch failed, in the same words as scrapeErrorReason. */
function fetchErrorReason(e: unknown): string {
  const name = (e as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  return scrapeErrorReason(e);
}

/**
 * The same scraper on fetch, for the Bun binary: Bun's fetch is native and its node:http an
 * emulation on top of it (64 scrapes of a 54 KB page: 18 ms of CPU with fetch, 29 ms with
 * node:http, measured); under node, node:http is the cheaper one (54 vs 80 ms).
 */
const decoder = new TextDecoder();

export function createFetchScraper(): HttpScraper {
  const fetchText: FetchText = async (url, timeoutMs) => {
    let res: Response;
    try {
      res = await fetch(url, {signal: AbortSignal.timeout(timeoutMs), headers: {accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1'}});
    } catch (e) {
      throw new Error(fetchErrorReason(e));
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    if (Number(res.headers.get('content-length') ?? 0) > MAX_PAGE_BYTES) {
      await res.body?.cancel();
      throw new Error('page too large');
    }
    try {
      // The body as bytes, decoded, then let go at once: the runtime's own copy would be freed
      // only when a collection reaches the response (docs/top.md, "Cost").
      const bytes = (await res.arrayBuffer()) as ArrayBuffer & {transfer(length: number): ArrayBuffer};
      const text = decoder.decode(bytes);
      bytes.transfer(0);
      return text;
    } catch (e) {
      throw new Error(fetchErrorReason(e));
    }
  };
  return {fetchText, close() {}};
}

/** The cheaper scraper where we run: fetch inside the Bun binary, node:http under node. */
export function createScraper(): HttpScraper {
  return process.versions.bun ? createFetchScraper() : createHttpScraper();
}
