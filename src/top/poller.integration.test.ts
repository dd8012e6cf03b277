import {readFileSync} from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {metricsSeries} from '../../test/helpers/metrics-series.js';
import {createHttpScraper} from './http-scrape.js';
import {Poller} from './poller.js';
import {sourcesFromUrls} from './sources.js';
import {TopStore} from './store.js';
import {openTop, topOnce} from './watch.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/metrics/${name}`, import.meta.url), 'utf8');
const STEPS = 20;
const steady = (rates: Record<string, number>) => Array.from({length: STEPS}, () => ({seconds: 1, rates}));

/** A real /metrics server that serves page `round()` of its series. */
class MetricsServer {
  server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {'content-type': 'text/plain; version=0.0.4'});
    res.end(this.pages[Math.min(this.round(), this.pages.length - 1)]);
  });
  port = 0;
  constructor(
    readonly pages: string[],
    readonly round: () => number,
  ) {}
  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
  /** Serves again on the same port (a restarted process). */
  async reopen(): Promise<void> {
    this.server = http.createServer(this.server.listeners('request')[0] as http.RequestListener);
    await this.listen(this.port);
  }
}

const open: MetricsServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) if (s.server.listening) await s.close();
});

describe('top against real /metrics servers', () => {
  it('follows a vLLM and an SGLang server over HTTP, marks one down while it is gone and back when it returns', async () => {
    let round = 0;
    let clock = 1_800_000_000_000;
    const vllm = new MetricsServer(metricsSeries(fixture('vllm.prom'), steady({'vllm:generation_tokens_total': 800})), () => round);
    const sgl = new MetricsServer(metricsSeries(fixture('sglang.prom'), steady({'sglang:generation_tokens_total': 1500})), () => round);
    open.push(vllm, sgl);
    await vllm.listen();
    await sgl.listen();
    const store = new TopStore({windowS: 5, intervalS: 1});
    const scraper = createHttpScraper();
    const provider = {read: () => ({sources: sourcesFromUrls([`127.0.0.1:${vllm.port}`, `http://127.0.0.1:${sgl.port}/metrics`])})};
    const poller = new Poller({store, provider, fetchText: scraper.fetchText, now: () => clock});
    const tick = async () => {
      await poller.round();
      round++;
      clock += 1000;
    };
    try {
      for (let i = 0; i < 4; i++) await tick();
      let [v, s] = store.snapshot().sources;
      expect([v!.kind, v!.state, s!.kind, s!.state]).toEqual(['vllm', 'up', 'sglang', 'up']);
      expect(v!.outputTokensPerS).toBeCloseTo(800, 6);
      expect(s!.outputTokensPerS).toBeCloseTo(1500, 6);
      expect(store.snapshot().totals.outputTokensPerS).toBeCloseTo(2300, 6);

      const downAt = clock;
      await sgl.close();
      for (let i = 0; i < 3; i++) await tick();
      [v, s] = store.snapshot().sources;
      expect(s).toMatchObject({state: 'down', downSince: downAt, error: 'connection refused'});
      expect(s!.outputTokensPerS).toBeUndefined();
      expect(store.snapshot().totals.outputTokensPerS).toBeCloseTo(800, 6);
      expect(store.snapshot().warnings).toEqual([{at: downAt, text: `127.0.0.1:${sgl.port} down (connection refused)`}]);

      await sgl.reopen();
      const backAt = clock;
      await tick();
      [, s] = store.snapshot().sources;
      expect(s!.state).toBe('up');
      expect(store.snapshot().warnings.at(-1)).toEqual({at: backAt, text: `127.0.0.1:${sgl.port} back after 3 s`});
      expect(s!.outputTokensPerS).toBeCloseTo(1500, 6);
    } finally {
      await poller.stop();
      scraper.close();
    }
  });
});

describe('scraping over HTTP', () => {
  it('names what went wrong: refused, an HTTP status, a timeout', async () => {
    const scraper = createHttpScraper();
    const silent = http.createServer(() => {});
    const failing = http.createServer((_req, res) => res.writeHead(503).end('busy'));
    try {
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
      const port = (s: http.Server) => (s.address() as AddressInfo).port;
      await expect(scraper.fetchText(`http://127.0.0.1:${port(failing)}/metrics`, 2000)).rejects.toThrow('HTTP 503');
      await expect(scraper.fetchText(`http://127.0.0.1:${port(silent)}/metrics`, 100)).rejects.toThrow('timeout');
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const gone = port(closed);
      await new Promise<void>((r) => closed.close(() => r()));
      await expect(scraper.fetchText(`http://127.0.0.1:${gone}/metrics`, 2000)).rejects.toThrow('connection refused');
    } finally {
      scraper.close();
      silent.closeAllConnections();
      silent.close();
      failing.close();
    }
  });

  it('keeps one connection alive across scrapes', async () => {
    const sockets = new Set<unknown>();
    const server = http.createServer((req, res) => {
      sockets.add(req.socket);
      res.end('# TYPE x gauge\nx 1\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const scraper = createHttpScraper();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      for (let i = 0; i < 5; i++) expect(await scraper.fetchText(url, 2000)).toContain('x 1');
      expect(sockets.size).toBe(1);
    } finally {
      scraper.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('topOnce, the plain twin', () => {
  it('gives one snapshot with rates from two refreshes one interval apart', async () => {
    let served = 0;
    const pages = metricsSeries(fixture('mocker-worker.prom'), steady({'vllm:generation_tokens_total': 100}));
    const server = new MetricsServer(pages, () => served++);
    open.push(server);
    await server.listen();
    const snap = await topOnce({home: '/nonexistent', urls: [`127.0.0.1:${server.port}`], intervalS: 0.1, windowS: 5});
    expect(served).toBe(2);
    expect(snap.sources[0]).toMatchObject({id: `127.0.0.1:${server.port}`, kind: 'vllm', state: 'up'});
    // 100 tok/s of recorded time in each page step, scraped ~0.1 s apart: the rate is per second of wall time.
    expect(snap.sources[0]!.outputTokensPerS).toBeGreaterThan(0);
    expect(snap).toMatchObject({intervalS: 0.1, windowS: 5});
  });

  it('refuses a window too short for two refreshes', () => {
    expect(() => openTop({home: '/nonexistent', urls: ['h:1'], intervalS: 5, windowS: 8})).toThrow(/fewer than two refreshes/);
  });
});
