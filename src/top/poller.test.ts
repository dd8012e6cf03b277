import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {metricsSeries} from '../../test/helpers/metrics-series.js';
import {Poller, type Timers, scrapeTimeoutMs} from './poller.js';
import type {SourceProvider} from './source-provider.js';
import {type SourceInfo, TopStore} from './store.js';

const page = readFileSync(new URL('../../test/fixtures/metrics/mocker-worker.prom', import.meta.url), 'utf8');
const pages = [page, ...metricsSeries(page, Array.from({length: 5}, () => ({seconds: 1, rates: {'vllm:generation_tokens_total': 50}})))];

const src = (id: string): SourceInfo => ({id, url: `http://w/${id}`, kindHint: 'dynamo-worker'});
const provider = (sources: SourceInfo[]): SourceProvider => ({read: () => ({sources})});

/** A fetch whose answers the test hands out, one by one. */
function gatedFetch() {
  const pending: {url: string; timeoutMs: number; resolve(t: string): void; reject(e: Error): void}[] = [];
  const fetchText = (url: string, timeoutMs: number) => new Promise<string>((resolve, reject) => pending.push({url, timeoutMs, resolve, reject}));
  return {pending, fetchText};
}

/** Timers the test fires by hand. */
function manualTimers() {
  const queued: {fn: () => void; ms: number}[] = [];
  const timers: Timers = {set: (fn, ms) => queued.push({fn, ms}), clear: () => queued.splice(0)};
  return {queued, timers};
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('Poller', () => {
  it('calls afterRound once per refresh, after the commit', async () => {
    const store = new TopStore({intervalS: 1});
    const events: string[] = [];
    store.subscribe(() => events.push('commit'));
    const poller = new Poller({store, provider: provider([src('agg-0')]), fetchText: async () => page, now: () => 5000, afterRound: () => events.push('after')});
    await poller.round();
    await poller.round();
    expect(events).toEqual(['commit', 'after', 'commit', 'after']);
  });

  it('scrapes every source at once within the timeout, then commits one refresh', async () => {
    const store = new TopStore({intervalS: 1});
    let commits = 0;
    store.subscribe(() => commits++);
    const {pending, fetchText} = gatedFetch();
    const poller = new Poller({store, provider: provider([src('agg-0'), src('agg-1')]), fetchText, now: () => 5000});
    const round = poller.round();
    await settle();
    expect(pending.map((p) => [p.url, p.timeoutMs])).toEqual([
      ['http://w/agg-0', scrapeTimeoutMs(1000)],
      ['http://w/agg-1', 800],
    ]);
    pending[1]!.resolve(page);
    await settle();
    expect(commits).toBe(0);
    pending[0]!.reject(new Error('connection refused'));
    await round;
    expect(commits).toBe(1);
    expect(store.snapshot().sources.map((s) => [s.id, s.state, s.error])).toEqual([
      ['agg-0', 'down', 'connection refused'],
      ['agg-1', 'up', undefined],
    ]);
  });

  it('never overlaps rounds: the next is scheduled one interval after the last began, once it is done', async () => {
    let clock = 10_000;
    const store = new TopStore({intervalS: 1});
    const {pending, fetchText} = gatedFetch();
    const {queued, timers} = manualTimers();
    const poller = new Poller({store, provider: provider([src('agg-0')]), fetchText, now: () => clock, timers});
    poller.start();
    await settle();
    expect(pending).toHaveLength(1);
    // A second round asked for while one is in flight is the same round.
    void poller.round();
    await settle();
    expect(pending).toHaveLength(1);
    expect(queued).toHaveLength(0);
    clock += 300;
    pending[0]!.resolve(pages[0]!);
    await settle();
    expect(queued.map((q) => q.ms)).toEqual([700]);
    // A round longer than the interval: the next one starts at once.
    queued.shift()!.fn();
    await settle();
    clock += 1500;
    pending[1]!.resolve(pages[1]!);
    await settle();
    expect(queued.map((q) => q.ms)).toEqual([0]);
    expect(store.snapshot().sources[0]!.outputTokensPerS).toBeCloseTo(50 / 1.5, 6);
    await poller.stop();
    expect(queued).toHaveLength(0);
  });

  it('stop waits for the round in flight and schedules nothing after it', async () => {
    const store = new TopStore();
    const {pending, fetchText} = gatedFetch();
    const {queued, timers} = manualTimers();
    const poller = new Poller({store, provider: provider([src('agg-0')]), fetchText, timers});
    poller.start();
    await settle();
    let stopped = false;
    const stopping = poller.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    pending[0]!.resolve(page);
    await stopping;
    expect(queued).toHaveLength(0);
    expect(store.snapshot().sources[0]!.state).toBe('up');
  });

  it('runs n rounds one interval apart for a one-shot view, so rates are known', async () => {
    let clock = 0;
    let served = 0;
    const store = new TopStore({intervalS: 2});
    const timers: Timers = {
      set: (fn, ms) => {
        clock += ms;
        fn();
      },
      clear: () => {},
    };
    const poller = new Poller({store, provider: provider([src('agg-0')]), fetchText: async () => pages[served++]!, now: () => clock, timers});
    await poller.rounds(2);
    expect(served).toBe(2);
    expect(store.snapshot().at).toBe(2000);
    expect(store.snapshot().sources[0]!.outputTokensPerS).toBeCloseTo(25, 6);
  });

  it('says once when the deployment it watches is gone, and puts its name in the snapshot', async () => {
    const store = new TopStore();
    let gone = false;
    const p: SourceProvider = {deployment: {name: 'demo', model: 'm', url: 'http://127.0.0.1:8000', startedAt: 1}, read: () => ({sources: [], gone})};
    const poller = new Poller({store, provider: p, fetchText: async () => page, now: () => 7});
    await poller.round();
    gone = true;
    await poller.round();
    await poller.round();
    expect(store.snapshot().deployment?.name).toBe('demo');
    expect(store.snapshot().warnings).toEqual([{at: 7, text: 'deployment demo stopped (its state file is gone)'}]);
  });
});
