import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {type Advance, metricsSeries} from '../../test/helpers/metrics-series.js';
import {type SourceInfo, TopStore} from './store.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/metrics/${name}`, import.meta.url), 'utf8');
const T0 = 1_800_000_000_000;
const at = (s: number) => T0 + s * 1000;

/** `n` one-second steps of the same advance. */
const steady = (n: number, a: Omit<Advance, 'seconds'>): Advance[] => Array.from({length: n}, () => ({seconds: 1, ...a}));

/** Feeds pages one second apart (page i at second `from + i`), committing after each. */
function feed(store: TopStore, id: string, pages: string[], from = 0): void {
  pages.forEach((text, i) => {
    store.ingest(id, {at: at(from + i), ok: true, text});
    store.commit(at(from + i));
  });
}

const worker = (id: string, extra: Partial<SourceInfo> = {}): SourceInfo => ({id, url: `http://127.0.0.1:1/${id}`, role: 'agg', host: 'local', kindHint: 'dynamo-worker', restarts: 0, status: 'ready', ...extra});

const VLLM_LOAD = {
  rates: {
    'vllm:generation_tokens_total': 1200,
    'vllm:prompt_tokens_total': 5000,
    'vllm:prefix_cache_queries_total': 5000,
    'vllm:prefix_cache_hits_total': 2000,
    'vllm:request_success_total{finished_reason="stop"}': 4,
  },
  observe: {'vllm:time_to_first_token_seconds': [{perS: 2, value: 0.3}, {perS: 2, value: 0.07}]},
  gauges: {'vllm:num_requests_running': 9, 'vllm:num_requests_waiting': 2, 'vllm:kv_cache_usage_perc': 0.5},
};

describe('TopStore on a vLLM source', () => {
  const setup = () => {
    const store = new TopStore({windowS: 10});
    store.setSources([{id: 'gpu-0:8000', url: 'http://gpu-0:8000/metrics', host: 'gpu-0'}], at(0));
    return store;
  };

  it('shows its rates, hit rate and window percentiles from a steady load', () => {
    const store = setup();
    const base = fixture('vllm.prom');
    feed(store, 'gpu-0:8000', [base, ...metricsSeries(base, steady(10, VLLM_LOAD))]);
    const s = store.snapshot().sources[0]!;
    expect(s).toMatchObject({kind: 'vllm', state: 'up', running: 9, waiting: 2, kvUsage: 0.5});
    expect(s.outputTokensPerS).toBeCloseTo(1200, 6);
    expect(s.inputTokensPerS).toBeCloseTo(5000, 6);
    expect(s.requestsPerS).toBeCloseTo(4, 6);
    expect(s.hitRate).toBeCloseTo(0.4, 9);
    // Window: 20 TTFTs of 0.07 s in (0.06, 0.08] and 20 of 0.3 s in (0.25, 0.5]. histogram_quantile:
    // p50 = rank 20 → top of (0.06, 0.08] = 80 ms; p90 = rank 36 → 0.25 + 0.25·16/20 = 450 ms; p99 → 495 ms.
    expect(s.ttftMs!.p50).toBeCloseTo(80, 6);
    expect(s.ttftMs!.p90).toBeCloseTo(450, 6);
    expect(s.ttftMs!.p99).toBeCloseTo(495, 6);
    // No inter-token latencies in the window: unknown, not 0.
    expect(s.itlMs).toBeUndefined();
    expect(s.understood).toContain('vllm:inter_token_latency_seconds');
  });

  it('has no rates after a single scrape ("–", not 0)', () => {
    const store = setup();
    feed(store, 'gpu-0:8000', [fixture('vllm.prom')]);
    const s = store.snapshot().sources[0]!;
    expect(s.state).toBe('up');
    expect(s.running).toBe(12);
    expect(s.outputTokensPerS).toBeUndefined();
    expect(s.requestsPerS).toBeUndefined();
    expect(s.ttftMs).toBeUndefined();
  });

  it('counts a restart mid-window from zero: the rate stays right, never negative', () => {
    const store = setup();
    const base = fixture('vllm.prom');
    const steps = steady(10, VLLM_LOAD);
    steps[5] = {...steps[5]!, restart: true};
    feed(store, 'gpu-0:8000', [base, ...metricsSeries(base, steps)]);
    const s = store.snapshot().sources[0]!;
    expect(s.outputTokensPerS).toBeCloseTo(1200, 6);
    expect(s.requestsPerS).toBeCloseTo(4, 6);
    expect(s.ttftMs!.p50).toBeCloseTo(80, 6);
  });

  it('counts a series that first appears mid-window from zero (the first abort)', () => {
    const store = setup();
    const abort = /^vllm:request_success_total\{[^}]*finished_reason="abort"[^\n]*\n/m;
    const base = fixture('vllm.prom').replace(abort, '');
    const withAbort = (page: string) => page.replace(/^(vllm:request_success_total\{[^}]*"length"[^\n]*\n)/m, `$1vllm:request_success_total{engine="0",finished_reason="abort",model_name="m"} 3.0\n`);
    const pages = metricsSeries(base, steady(10, {})).map((p, i) => (i >= 6 ? withAbort(p) : p));
    feed(store, 'gpu-0:8000', [base, ...pages]);
    // It appears at second 7 with 3: counted from zero at second 6, 3 aborts over the 10 s window.
    expect(store.snapshot().sources[0]!.requestsPerS).toBeCloseTo(0.3, 9);
  });

  it('reads the older time_per_output_token_seconds when inter_token_latency_seconds is absent', () => {
    const store = setup();
    const base = fixture('vllm.prom').replace(/^vllm:inter_token_latency_seconds.*\n/gm, '').replace(/^# (HELP|TYPE) vllm:inter_token_latency_seconds .*\n/gm, '');
    feed(store, 'gpu-0:8000', [base, ...metricsSeries(base, steady(10, {observe: {'vllm:time_per_output_token_seconds': [{perS: 100, value: 0.02}]}}))]);
    const s = store.snapshot().sources[0]!;
    expect(s.understood).not.toContain('vllm:inter_token_latency_seconds');
    // All in (0.01, 0.025]: p50 = 0.01 + 0.015·0.5 = 17.5 ms.
    expect(s.itlMs!.p50).toBeCloseTo(17.5, 6);
  });
});

describe('TopStore when a source stops answering', () => {
  it('marks it down from the first failure, shows no figures, warns, and says when it came back', () => {
    const store = new TopStore({windowS: 10});
    store.setSources([worker('agg-1')], at(0));
    const base = fixture('mocker-worker.prom');
    const pages = [base, ...metricsSeries(base, steady(11, {rates: {'vllm:generation_tokens_total': 300}}))];
    feed(store, 'agg-1', pages.slice(0, 5));
    expect(store.snapshot().sources[0]!.outputTokensPerS).toBeCloseTo(300, 6);
    for (let s = 5; s <= 10; s++) {
      store.ingest('agg-1', {at: at(s), ok: false, error: 'connection refused'});
      store.commit(at(s));
    }
    let v = store.snapshot().sources[0]!;
    expect(v).toMatchObject({state: 'down', downSince: at(5), error: 'connection refused', kind: 'dynamo-worker'});
    expect(v.outputTokensPerS).toBeUndefined();
    expect(v.running).toBeUndefined();
    expect(v.history.outputTokensPerS.slice(-3)).toEqual([null, null, null]);
    expect(store.snapshot().warnings).toEqual([{at: at(5), text: 'agg-1 down (connection refused)'}]);
    feed(store, 'agg-1', [pages[11]!], 11);
    v = store.snapshot().sources[0]!;
    expect(v.state).toBe('up');
    expect(v.downSince).toBeUndefined();
    expect(store.snapshot().warnings.at(-1)).toEqual({at: at(11), text: 'agg-1 back after 6 s'});
    // The figures span the outage: 300 tok/s all along.
    expect(v.outputTokensPerS).toBeCloseTo(300, 6);
  });

  it('keeps a process the supervisor is still starting as starting, without a warning', () => {
    const store = new TopStore();
    store.setSources([worker('agg-0', {status: 'starting'})], at(0));
    store.ingest('agg-0', {at: at(0), ok: false, error: 'connection refused'});
    store.commit(at(0));
    expect(store.snapshot().sources[0]).toMatchObject({state: 'starting', error: 'connection refused'});
    expect(store.snapshot().warnings).toEqual([]);
  });

  it('warns when the run directory shows a restart, a worker leaving discovery, or a process joining', () => {
    const store = new TopStore();
    store.setSources([worker('agg-0', {inDiscovery: true}), worker('agg-1', {inDiscovery: true})], at(0));
    store.setSources([worker('agg-0', {inDiscovery: true, restarts: 2}), worker('agg-1', {inDiscovery: false})], at(1));
    store.setSources([worker('agg-0', {inDiscovery: true, restarts: 2}), worker('agg-1', {inDiscovery: true}), worker('agg-2')], at(2));
    store.commit(at(2));
    expect(store.snapshot().warnings.map((w) => w.text)).toEqual(['agg-0 restarted (2 restarts)', 'agg-1 left discovery', 'agg-1 back in discovery', 'agg-2 joined']);
    expect(store.snapshot().sources.map((s) => [s.id, s.restarts, s.state])).toEqual([
      ['agg-0', 2, 'starting'],
      ['agg-1', 0, 'starting'],
      ['agg-2', 0, 'starting'],
    ]);
  });
});

describe('TopStore cluster totals', () => {
  it("with a frontend, takes requests, tokens, latency, errors and rejections from the frontend's own metrics", () => {
    const store = new TopStore({windowS: 10});
    store.setSources([{id: 'frontend', url: 'http://127.0.0.1:8000/metrics', role: 'frontend', kindHint: 'dynamo-frontend'}, worker('agg-0')], at(0));
    const fe = fixture('dynamo-frontend.prom');
    const fePages = metricsSeries(
      fe,
      steady(10, {
        rates: {
          'dynamo_frontend_requests_total{status="success"}': 10,
          'dynamo_frontend_requests_total{error_type="overload"}': 2,
          'dynamo_frontend_requests_total{error_type="validation"}': 1,
          'dynamo_frontend_output_tokens_total': 900,
          'dynamo_router_prompt_tokens_total': 1000,
          'dynamo_router_cached_tokens_total': 500,
        },
        observe: {
          'dynamo_frontend_time_to_first_token_seconds': [{perS: 30, value: 0.015}, {perS: 10, value: 0.3}],
          'dynamo_frontend_input_sequence_tokens': [{perS: 4, value: 1000}],
        },
        gauges: {dynamo_frontend_inflight_requests: 7, dynamo_frontend_queued_requests: 3, dynamo_router_queue_pending_requests: 1},
      }),
    );
    const wk = fixture('mocker-worker.prom');
    const wkPages = metricsSeries(wk, steady(10, {rates: {'vllm:generation_tokens_total': 5000}}));
    [fe, ...fePages].forEach((text, i) => {
      store.ingest('frontend', {at: at(i), ok: true, text});
      store.ingest('agg-0', {at: at(i), ok: true, text: [wk, ...wkPages][i]!});
      store.commit(at(i));
    });
    const {totals, routerQueue, sources} = store.snapshot();
    expect(sources[0]!.kind).toBe('dynamo-frontend');
    // Success series: 3 of them at 10/s each; errors: overload 2 + validation 1 (cancelled: 0).
    expect(totals.requestsPerS).toBeCloseTo(33, 6);
    expect(totals.errorsPerS).toBeCloseTo(3, 6);
    expect(totals.rejectedPerS).toBeCloseTo(2, 6);
    expect(totals.outputTokensPerS).toBeCloseTo(900, 6);
    expect(totals.inputTokensPerS).toBeCloseTo(4000, 6);
    expect(totals).toMatchObject({inFlight: 7, queued: 3});
    expect(routerQueue).toBe(1);
    // Two worker series on the router counters, each 1000 prompt / 500 cached per second.
    expect(totals.hitRate.router).toBeCloseTo(0.5, 9);
    // 300 in (0.01, 0.022] and 100 in (0.22, 0.47]: p50 = 0.01 + 0.012·200/300 = 18 ms, p90 = 0.22 + 0.25·0.6 = 370 ms.
    expect(totals.ttftMs!.p50).toBeCloseTo(18, 6);
    expect(totals.ttftMs!.p90).toBeCloseTo(370, 6);
    expect(totals.ttftMs!.p99).toBeCloseTo(460, 6);
  });

  it('without a frontend, sums the workers and merges their buckets (not an average of percentiles)', () => {
    const store = new TopStore({windowS: 10});
    store.setSources([worker('agg-0'), worker('agg-1')], at(0));
    const base = fixture('mocker-worker.prom');
    const a = metricsSeries(base, steady(10, {rates: {'vllm:generation_tokens_total': 100, 'vllm:prefix_cache_queries_total': 1000, 'vllm:prefix_cache_hits_total': 800}, observe: {'vllm:time_to_first_token_seconds': [{perS: 10, value: 0.03}]}, gauges: {'vllm:num_requests_running': 3, 'vllm:num_requests_waiting': 1}}));
    const b = metricsSeries(base, steady(10, {rates: {'vllm:generation_tokens_total': 250, 'vllm:prefix_cache_queries_total': 3000, 'vllm:prefix_cache_hits_total': 600}, observe: {'vllm:time_to_first_token_seconds': [{perS: 10, value: 0.2}]}, gauges: {'vllm:num_requests_running': 5, 'vllm:num_requests_waiting': 0}}));
    [base, ...a].forEach((text, i) => {
      store.ingest('agg-0', {at: at(i), ok: true, text});
      store.ingest('agg-1', {at: at(i), ok: true, text: [base, ...b][i]!});
      store.commit(at(i));
    });
    const {totals} = store.snapshot();
    expect(totals.outputTokensPerS).toBeCloseTo(350, 6);
    expect(totals).toMatchObject({inFlight: 8, queued: 1});
    expect(totals.errorsPerS).toBeUndefined();
    // (800 + 600) / (1000 + 3000), not the mean of 0.8 and 0.2.
    expect(totals.hitRate.workers).toBeCloseTo(0.35, 9);
    expect(totals.hitRate.router).toBeUndefined();
    // Merged: 100 in (0.02, 0.04], 100 in (0.1, 0.25]. p50 = 40 ms; p90 = 0.1 + 0.15·80/100 = 220 ms.
    expect(totals.ttftMs!.p50).toBeCloseTo(40, 6);
    expect(totals.ttftMs!.p90).toBeCloseTo(220, 6);
  });

  it("reads SGLang's names and its hit-rate gauge", () => {
    const store = new TopStore({windowS: 10});
    store.setSources([{id: 'sgl:30000', url: 'http://sgl:30000/metrics'}], at(0));
    const base = fixture('sglang.prom');
    feed(store, 'sgl:30000', [base, ...metricsSeries(base, steady(10, {rates: {'sglang:generation_tokens_total': 2000, 'sglang:num_requests_total': 8}, observe: {'sglang:inter_token_latency_seconds': [{perS: 2000, value: 0.012}]}}))]);
    const s = store.snapshot().sources[0]!;
    expect(s).toMatchObject({kind: 'sglang', running: 24, waiting: 5, kvUsage: 0.31, hitRate: 0.4673});
    expect(s.outputTokensPerS).toBeCloseTo(2000, 6);
    expect(s.requestsPerS).toBeCloseTo(8, 6);
    // All in (0.01, 0.015]: p50 = 12.5 ms.
    expect(s.itlMs!.p50).toBeCloseTo(12.5, 6);
    expect(store.snapshot().totals.hitRate.workers).toBeCloseTo(0.4673, 9);
  });

  it('shows an endpoint it does not understand as unknown, up, with nothing understood', () => {
    const store = new TopStore();
    store.setSources([{id: 'x:9100', url: 'http://x:9100/metrics'}], at(0));
    feed(store, 'x:9100', ['# TYPE node_load1 gauge\nnode_load1 0.5\n', '# TYPE node_load1 gauge\nnode_load1 0.7\n']);
    expect(store.snapshot().sources[0]).toMatchObject({kind: 'unknown', state: 'up', understood: []});
    expect(store.snapshot().totals).toEqual({hitRate: {}});
  });
});

describe('TopStore as the views use it', () => {
  const load = () => {
    const store = new TopStore({windowS: 10, historyLength: 5});
    store.setSources([worker('agg-0')], at(0));
    const base = fixture('mocker-worker.prom');
    const pages = [base, ...metricsSeries(base, steady(12, {rates: {'vllm:generation_tokens_total': 100}, gauges: {'vllm:kv_cache_usage_perc': 0.25}}))];
    return {store, pages};
  };

  it('tells subscribers once per refresh and keeps the same snapshot object until then', () => {
    const {store, pages} = load();
    let calls = 0;
    const off = store.subscribe(() => calls++);
    store.ingest('agg-0', {at: at(0), ok: true, text: pages[0]!});
    const before = store.snapshot();
    expect(store.snapshot()).toBe(before);
    store.commit(at(0));
    expect(calls).toBe(1);
    expect(store.snapshot()).not.toBe(before);
    off();
    store.commit(at(1));
    expect(calls).toBe(1);
  });

  it('keeps one history value per refresh, bounded, null until a rate is known', () => {
    const {store, pages} = load();
    feed(store, 'agg-0', pages.slice(0, 7));
    const h = store.snapshot().sources[0]!.history;
    expect(h.outputTokensPerS).toHaveLength(5);
    expect(h.outputTokensPerS.every((v) => v !== null && Math.abs(v - 100) < 1e-6)).toBe(true);
    expect(h.kvUsage).toEqual([0.25, 0.25, 0.25, 0.25, 0.25]);
    const fresh = new TopStore();
    fresh.setSources([worker('agg-0')], at(0));
    feed(fresh, 'agg-0', pages.slice(0, 1));
    expect(fresh.snapshot().sources[0]!.history.outputTokensPerS).toEqual([null]);
  });

  it('while paused, shows the frozen figures; resuming shows the present', () => {
    const {store, pages} = load();
    feed(store, 'agg-0', pages.slice(0, 3));
    store.pause();
    const frozen = store.snapshot();
    expect(frozen.paused).toBe(true);
    feed(store, 'agg-0', pages.slice(3, 6), 3);
    expect(store.snapshot()).toBe(frozen);
    store.resume();
    expect(store.snapshot()).toMatchObject({paused: false, at: at(5)});
  });

  it('after resetWindow, rates are unknown until the next refresh, then cover only what followed', () => {
    const {store, pages} = load();
    feed(store, 'agg-0', pages.slice(0, 5));
    store.resetWindow();
    expect(store.snapshot().sources[0]!.outputTokensPerS).toBeUndefined();
    feed(store, 'agg-0', pages.slice(5, 6), 5);
    expect(store.snapshot().sources[0]!.outputTokensPerS).toBeCloseTo(100, 6);
  });

  it('reports its window and interval, and changes them', () => {
    const store = new TopStore();
    expect(store.snapshot()).toMatchObject({windowS: 30, intervalS: 1, paused: false, sources: [], warnings: []});
    store.setWindow(60);
    store.setInterval(2);
    expect(store.snapshot()).toMatchObject({windowS: 60, intervalS: 2});
  });
});

describe('TopStore on a disaggregated deployment', () => {
  /** A decode worker's page: its engine's families plus the KV transfer it pulls. */
  const page = (tokens: number, pending: number) =>
    [
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running 3',
      '# TYPE dynamo_component_kv_transfer_tokens_total counter',
      `dynamo_component_kv_transfer_tokens_total ${tokens}`,
      '# TYPE dynamo_component_kv_transfer_pending gauge',
      `dynamo_component_kv_transfer_pending ${pending}`,
      '',
    ].join('\n');

  it('sums the transfer rate and queue of the workers that export them', () => {
    const store = new TopStore({windowS: 10});
    store.setSources([worker('decode-0', {role: 'decode'}), worker('decode-1', {role: 'decode'}), worker('agg-0')], at(0));
    feed(store, 'decode-0', [page(0, 1), page(1000, 2), page(2000, 2)]);
    feed(store, 'decode-1', [page(0, 0), page(500, 1), page(1000, 1)]);
    feed(store, 'agg-0', [fixture('vllm.prom'), fixture('vllm.prom'), fixture('vllm.prom')]);
    const {disagg} = store.snapshot();
    expect(disagg?.transferTokensPerS).toBeCloseTo(1500, 6);
    expect(disagg?.transferQueue).toBe(3);
  });

  it('shows no transfer line where no worker transfers KV', () => {
    const store = new TopStore({windowS: 10});
    store.setSources([worker('agg-0')], at(0));
    feed(store, 'agg-0', [fixture('vllm.prom'), fixture('vllm.prom')]);
    expect(store.snapshot().disagg).toBeUndefined();
  });
});
