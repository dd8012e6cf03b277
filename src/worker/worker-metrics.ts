/**
 * The worker's Prometheus metrics (vLLM's names, see engines/mocker/metrics.ts) fed from its
 * engine: scheduler counters and gauges on every step and scrape, latencies per request stream.
 */
import {workerMetrics} from '../engines/mocker/metrics.js';
import type {ScalarSeries} from '../metrics/prometheus.js';
import type {MockerWorkerEngine} from './mocker-engine.js';
import type {GenerateChunk} from './protocol.js';

/** How one request ended, for the debug log. */
export interface RequestSummary {
  cachedTokens: number;
  generatedTokens: number;
  finishReason: string;
  elapsedMs: number;
}

export interface RequestObserver {
  /** Records one streamed chunk at `now` (epoch ms); returns the summary on the last one. */
  chunk(c: GenerateChunk, now: number): RequestSummary | undefined;
}

export interface WorkerMetricsFeed {
  /** Brings counters and gauges up to date with the engine (after each step, before a scrape). */
  refresh(): void;
  render(): string;
  /** Starts timing a request that reached the frontend at `arrivedAt` (TTFT counts from there). */
  request(arrivedAt: number): RequestObserver;
}

/** What an in-process engine (the mocker, llama.cpp) tells its worker's metrics. */
export interface WorkerMetricsSource {
  readonly counters: {prefixQueryTokens: number; prefixHitTokens: number; promptTokens: number; generationTokens: number; preemptions: number};
  readonly numRunning: number;
  readonly numWaiting: number;
  readonly kvUsage: number;
  readonly blocksTotal: number;
  /** Called after every engine step. */
  onStep?: () => void;
}

export function mockerMetricsSource(mocker: MockerWorkerEngine): WorkerMetricsSource {
  const {scheduler, blocks, engine} = mocker;
  return {
    get counters() {
      return scheduler.counters;
    },
    get numRunning() {
      return scheduler.numRunning;
    },
    get numWaiting() {
      return scheduler.numWaiting;
    },
    get kvUsage() {
      return blocks.usage;
    },
    blocksTotal: mocker.blocksTotal,
    set onStep(fn: (() => void) | undefined) {
      engine.onStep = fn;
    },
  };
}

export function feedWorkerMetrics(source: WorkerMetricsSource, servedModelName: string, blockSize: number): WorkerMetricsFeed {
  const m = workerMetrics();
  const labels = {model_name: servedModelName, engine: '0'};
  m.cacheConfig.set({block_size: blockSize, num_gpu_blocks: source.blocksTotal, enable_prefix_caching: 'True'}, 1);
  // Bound once: refresh runs after every engine step.
  const series = {
    prefixQueries: m.prefixQueries.bind(labels),
    prefixHits: m.prefixHits.bind(labels),
    promptTokens: m.promptTokens.bind(labels),
    generationTokens: m.generationTokens.bind(labels),
    preemptions: m.preemptions.bind(labels),
    running: m.running.bind(labels),
    waiting: m.waiting.bind(labels),
    kvUsage: m.kvUsage.bind(labels),
    ttft: m.ttft.bind(labels),
    itl: m.itl.bind(labels),
    e2e: m.e2e.bind(labels),
  };
  const successes = new Map<string, ScalarSeries>();
  const success = (reason: string) => {
    let s = successes.get(reason);
    if (!s) successes.set(reason, (s = m.success.bind({...labels, finished_reason: reason})));
    return s;
  };
  // Counters grow by what the engine counted since the last refresh.
  let last = {...source.counters};
  const refresh = () => {
    const c = source.counters;
    series.prefixQueries.inc(c.prefixQueryTokens - last.prefixQueryTokens);
    series.prefixHits.inc(c.prefixHitTokens - last.prefixHitTokens);
    series.promptTokens.inc(c.promptTokens - last.promptTokens);
    series.generationTokens.inc(c.generationTokens - last.generationTokens);
    series.preemptions.inc(c.preemptions - last.preemptions);
    last = {...c};
    series.running.set(source.numRunning);
    series.waiting.set(source.numWaiting);
    series.kvUsage.set(source.kvUsage);
  };
  source.onStep = refresh;
  refresh();

  const request = (arrivedAt: number): RequestObserver => {
    let prev = 0;
    let n = 0;
    let cached = 0;
    return {
      chunk(c, now) {
        if (n === 0) {
          series.ttft.observe((now - arrivedAt) / 1000);
          cached = c.cachedTokens ?? 0;
        } else series.itl.observe((now - prev) / 1000 / c.tokenIds.length);
        prev = now;
        n += c.tokenIds.length;
        if (!c.finishReason) return undefined;
        series.e2e.observe((now - arrivedAt) / 1000);
        success(c.finishReason).inc();
        return {cachedTokens: cached, generatedTokens: n, finishReason: c.finishReason, elapsedMs: now - arrivedAt};
      },
    };
  };
  return {refresh, render: () => m.registry.render(), request};
}
