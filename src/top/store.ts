/**
 * The state of `top`, outside React: pollers feed it scrapes, views read one `TopSnapshot` at a
 * time (`snapshot()` returns the same object until something changes, so it suits React's
 * `useSyncExternalStore(store.subscribe, store.snapshot)`). Time comes with every call.
 *
 * Rules:
 * - A refresh is `ingest` for each source, then `commit(at)`: the snapshot is rebuilt once, each
 *   source's history (for sparklines) gains one value (null while it is down or unknown), and
 *   subscribers hear of it once.
 * - A source that stops answering is `down` from its first failed scrape (`downSince`), with the
 *   reason; its figures are undefined, never zeros of the last answer. One that never answered
 *   while the supervisor still starts it stays `starting`. Going down and coming back are warnings
 *   ("agg-1 down (connection refused)", "agg-1 back after 6 s").
 * - Run-directory facts come with `setSources`: a restart count going up, a worker that left
 *   discovery (or came back), a process joining or leaving the deployment: warnings.
 * - Paused: scrapes still feed the window (resuming shows the present), but the snapshot views see
 *   stays as it was, marked paused.
 * - `resetWindow` starts the window afresh from each series' newest sample.
 */
import {type Labels, parseExposition} from './exposition.js';
import {type Dialect, UNDERSTOOD_FAMILIES, detectKind} from './families.js';
import {type SourceFigures, computeFigures} from './figures.js';
import {SeriesBook} from './series-book.js';
import type {SourceKind, SourceRole, SourceView, TopSnapshot, TopWarning} from './snapshot.js';
import {clusterTotals, percentilesMs} from './totals.js';

/** What is known about a source before scraping it: from the run directory, or a URL. */
export interface SourceInfo {
  id: string;
  url: string;
  role?: SourceRole;
  host?: string;
  logFile?: string;
  restarts?: number;
  /** The supervisor's status of the process (run directory), when watching a deployment. */
  status?: string;
  /** What the run directory says it is (our mocker serves vLLM's names: still a Dynamo worker). */
  kindHint?: SourceKind;
  /** Whether the worker is registered in discovery; undefined when unknown. */
  inDiscovery?: boolean;
}

export type Scrape = {at: number; ok: true; text: string} | {at: number; ok: false; error: string};

export interface TopStoreOptions {
  windowS?: number;
  intervalS?: number;
  /** Refreshes kept for sparklines. */
  historyLength?: number;
  /** Warnings kept. */
  maxWarnings?: number;
}

export const DEFAULT_WINDOW_S = 30;
export const DEFAULT_INTERVAL_S = 1;

const STARTING_STATUSES = new Set(['pending', 'starting', 'restarting']);

interface SourceState {
  info: SourceInfo;
  kind: SourceKind;
  dialect?: Dialect;
  state: SourceView['state'];
  downSince?: number;
  error?: string;
  book: SeriesBook;
  labelCache: Map<string, Labels>;
  understood: string[];
  figures?: SourceFigures;
  history: {outputTokensPerS: number[]; kvUsage: number[]};
}

export class TopStore {
  private readonly sources = new Map<string, SourceState>();
  private readonly listeners = new Set<() => void>();
  private warnings: TopWarning[] = [];
  private deployment: TopSnapshot['deployment'];
  private windowMs: number;
  private intervalMsValue: number;
  private readonly historyLength: number;
  private readonly maxWarnings: number;
  private paused = false;
  private current: TopSnapshot;
  private lastAt = 0;
  private knownSources = false;

  constructor(opts: TopStoreOptions = {}) {
    this.windowMs = (opts.windowS ?? DEFAULT_WINDOW_S) * 1000;
    this.intervalMsValue = (opts.intervalS ?? DEFAULT_INTERVAL_S) * 1000;
    this.historyLength = opts.historyLength ?? 60;
    this.maxWarnings = opts.maxWarnings ?? 50;
    this.current = this.build(0);
  }

  get windowS(): number {
    return this.windowMs / 1000;
  }

  get intervalS(): number {
    return this.intervalMsValue / 1000;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  readonly snapshot = (): TopSnapshot => this.current;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  setDeployment(d: TopSnapshot['deployment']): void {
    this.deployment = d;
  }

  setWindow(seconds: number): void {
    this.windowMs = Math.max(1, seconds) * 1000;
    this.republish();
  }

  setInterval(seconds: number): void {
    this.intervalMsValue = Math.max(0.1, seconds) * 1000;
    this.republish();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.current = {...this.current, paused: true};
    this.notify();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.republish();
  }

  /** Starts the window afresh: rates and percentiles from the next refresh on cover only what follows. */
  resetWindow(): void {
    for (const s of this.sources.values()) s.book.restart();
    this.republish();
  }

  warn(at: number, text: string): void {
    this.warnings.push({at, text});
    if (this.warnings.length > this.maxWarnings) this.warnings.splice(0, this.warnings.length - this.maxWarnings);
  }

  /** The sources to watch now (re-read each refresh): adds, updates and drops, with warnings for what changed. */
  setSources(infos: readonly SourceInfo[], at: number): void {
    const seen = new Set<string>();
    const next = new Map<string, SourceState>();
    for (const info of infos) {
      seen.add(info.id);
      const old = this.sources.get(info.id);
      if (!old) {
        if (this.knownSources) this.warn(at, `${info.id} joined`);
        next.set(info.id, newSource(info));
        continue;
      }
      const was = old.info;
      if (info.restarts !== undefined && was.restarts !== undefined && info.restarts > was.restarts) {
        this.warn(at, `${info.id} restarted (${info.restarts} restart${info.restarts === 1 ? '' : 's'})`);
      }
      if (was.inDiscovery === true && info.inDiscovery === false) this.warn(at, `${info.id} left discovery`);
      if (was.inDiscovery === false && info.inDiscovery === true) this.warn(at, `${info.id} back in discovery`);
      if (info.url !== was.url) {
        old.book = new SeriesBook();
        old.labelCache.clear();
      }
      old.info = info;
      next.set(info.id, old);
    }
    for (const id of this.sources.keys()) if (!seen.has(id)) this.warn(at, `${id} left the deployment`);
    this.sources.clear();
    for (const [id, s] of next) this.sources.set(id, s);
    this.knownSources = true;
  }

  /** One scrape of one source (known through `setSources`; others are ignored). */
  ingest(id: string, scrape: Scrape): void {
    const s = this.sources.get(id);
    if (!s) return;
    if (!scrape.ok) {
      this.failed(s, scrape.at, scrape.error);
      return;
    }
    if (s.state === 'down' && s.downSince !== undefined) this.warn(scrape.at, `${id} back after ${Math.round((scrape.at - s.downSince) / 1000)} s`);
    s.state = 'up';
    s.downSince = undefined;
    s.error = undefined;
    const families = parseExposition(scrape.text, {only: UNDERSTOOD_FAMILIES, labelCache: s.labelCache});
    const names = [...families.keys()].sort();
    const {kind, dialect} = detectKind(names, s.info.kindHint);
    s.kind = kind;
    s.dialect = dialect;
    s.understood = names;
    s.book.ingest(scrape.at, families, this.windowMs);
  }

  private failed(s: SourceState, at: number, error: string): void {
    s.error = error;
    if (s.state === 'down') return;
    if (s.state === 'starting' && STARTING_STATUSES.has(s.info.status ?? '')) return;
    s.state = 'down';
    s.downSince = at;
    this.warn(at, `${s.info.id} down (${error})`);
  }

  /** Ends a refresh: figures, one history value per source, a new snapshot (unless paused), subscribers told. */
  commit(at: number): void {
    for (const s of this.sources.values()) {
      s.figures = s.state === 'up' && s.dialect ? computeFigures(s.book, s.dialect) : undefined;
      pushBounded(s.history.outputTokensPerS, finiteOrNull(s.figures?.outputTokensPerS), this.historyLength);
      pushBounded(s.history.kvUsage, finiteOrNull(s.figures?.kvUsage), this.historyLength);
    }
    this.lastAt = at;
    if (this.paused) return;
    this.current = this.build(at);
    this.notify();
  }

  private republish(): void {
    if (this.paused) {
      this.current = {...this.current, paused: true, windowS: this.windowS, intervalS: this.intervalS};
    } else {
      for (const s of this.sources.values()) s.figures = s.state === 'up' && s.dialect ? computeFigures(s.book, s.dialect) : undefined;
      this.current = this.build(this.lastAt);
    }
    this.notify();
  }

  private build(at: number): TopSnapshot {
    const views: SourceView[] = [];
    const up: {frontend: boolean; figures: SourceFigures}[] = [];
    for (const s of this.sources.values()) {
      views.push(view(s));
      if (s.figures) up.push({frontend: s.dialect === 'frontend', figures: s.figures});
    }
    const {totals, routerQueue, disagg} = clusterTotals(up);
    return {
      at,
      intervalS: this.intervalS,
      windowS: this.windowS,
      paused: this.paused,
      ...(this.deployment ? {deployment: this.deployment} : {}),
      totals,
      ...(routerQueue !== undefined ? {routerQueue} : {}),
      ...(disagg ? {disagg} : {}),
      sources: views,
      warnings: this.warnings.slice(),
    };
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

function newSource(info: SourceInfo): SourceState {
  return {
    info,
    kind: info.kindHint ?? 'unknown',
    state: 'starting',
    book: new SeriesBook(),
    labelCache: new Map(),
    understood: [],
    history: {outputTokensPerS: [], kvUsage: []},
  };
}

const finiteOrNull = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

function pushBounded(list: (number | null)[], v: number | null, max: number): void {
  list.push(v);
  if (list.length > max) list.splice(0, list.length - max);
}

/** A source as the views see it: undefined figures are left out (shown as "–"). */
function view(s: SourceState): SourceView {
  const i = s.info;
  const f = s.figures;
  const v: SourceView = {
    id: i.id,
    kind: s.kind,
    url: i.url,
    state: s.state,
    history: {outputTokensPerS: s.history.outputTokensPerS.slice(), kvUsage: s.history.kvUsage.slice()},
    understood: s.understood,
  };
  const set = <K extends keyof SourceView>(k: K, value: SourceView[K] | undefined) => {
    if (value !== undefined) v[k] = value;
  };
  set('role', i.role);
  set('host', i.host);
  set('downSince', s.downSince);
  set('error', s.error);
  set('restarts', i.restarts);
  set('logFile', i.logFile);
  if (f) {
    set('running', f.running);
    set('waiting', f.waiting);
    set('kvUsage', f.kvUsage);
    set('hitRate', f.hitRate);
    set('requestsPerS', f.requestsPerS);
    set('inputTokensPerS', f.inputTokensPerS);
    set('outputTokensPerS', f.outputTokensPerS);
    set('ttftMs', percentilesMs(f.ttft));
    set('itlMs', percentilesMs(f.itl));
  }
  return v;
}
