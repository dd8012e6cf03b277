/**
 * Feeds the store: every interval, one round reads the sources (the run directory, re-read), scrapes
 * them all at once, ingests each answer and commits the refresh.
 *
 * Rules and tunables:
 * - Rounds never overlap: the next starts one interval after the last one started, or at once if
 *   it ran longer. The interval is read from the store each time (the view may change it).
 * - Scrape timeout: 80 % of the interval, at least 200 ms and at most 10 s, so a silent source
 *   costs at most its own slot and never delays the next refresh.
 * - Time, the scraper and the timer are injected: tests drive rounds on a fake clock against real
 *   HTTP servers, or against canned pages with no network at all.
 */
import {type FetchText, createScraper} from './http-scrape.js';
import type {SourceProvider} from './source-provider.js';
import type {TopStore} from './store.js';

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface PollerOptions {
  store: TopStore;
  provider: SourceProvider;
  /** Defaults to keep-alive HTTP (http-scrape.ts); its sockets close with `stop()`. */
  fetchText?: FetchText;
  now?: () => number;
  timers?: Timers;
  /** Called after each committed refresh (the live view keeps its memory budget there). */
  afterRound?: () => void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export function scrapeTimeoutMs(intervalMs: number): number {
  return Math.min(10_000, Math.max(200, Math.floor(intervalMs * 0.8)));
}

export class Poller {
  private readonly store: TopStore;
  private readonly provider: SourceProvider;
  private readonly fetchText: FetchText;
  private readonly closeScraper?: () => void;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly afterRound?: () => void;
  private timer: unknown;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private gone = false;

  constructor(opts: PollerOptions) {
    this.store = opts.store;
    this.provider = opts.provider;
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.afterRound = opts.afterRound;
    if (opts.fetchText) this.fetchText = opts.fetchText;
    else {
      const scraper = createScraper();
      this.fetchText = scraper.fetchText;
      this.closeScraper = scraper.close;
    }
    if (this.provider.deployment) this.store.setDeployment(this.provider.deployment);
  }

  /** One refresh: sources, every scrape at once, ingest, commit. Resolves when it is in the store. */
  round(): Promise<void> {
    this.inFlight ??= this.runRound().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runRound(): Promise<void> {
    const started = this.now();
    const {sources, gone} = this.provider.read(started);
    if (gone && !this.gone) this.store.warn(started, `deployment ${this.provider.deployment?.name ?? ''} stopped (its state file is gone)`);
    this.gone = gone === true;
    this.store.setSources(sources, started);
    const timeoutMs = scrapeTimeoutMs(this.store.intervalS * 1000);
    await Promise.all(
      sources.map(async (s) => {
        try {
          const text = await this.fetchText(s.url, timeoutMs);
          this.store.ingest(s.id, {at: this.now(), ok: true, text});
        } catch (e) {
          this.store.ingest(s.id, {at: this.now(), ok: false, error: e instanceof Error ? e.message : String(e)});
        }
      }),
    );
    this.store.commit(this.now());
    this.afterRound?.();
  }

  /** Refreshes every interval until `stop()`; the first round starts now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      const started = this.now();
      await this.round();
      if (!this.running) return;
      const wait = Math.max(0, started + this.store.intervalS * 1000 - this.now());
      this.timer = this.timers.set(loop, wait);
    };
    void loop();
  }

  /** Stops refreshing, waits for a round in flight, closes the sockets. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    await this.inFlight;
    this.closeScraper?.();
  }

  /** `n` rounds one interval apart (the first now): enough for rates (`--once` needs two). */
  async rounds(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const started = this.now();
      await this.round();
      if (i + 1 < n) await new Promise<void>((resolve) => this.timers.set(resolve, Math.max(0, started + this.store.intervalS * 1000 - this.now())));
    }
  }
}
