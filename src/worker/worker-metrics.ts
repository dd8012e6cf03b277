/**
 * The worker's Prometheus metrics (vLLM's names, see engines/mocker/metrics.ts) fed from its
 * engine: scheduler counters and gauges on every step and scrape, latencies per request stream.
 */
import {workerMetrics} from '../engines/mocker/metrics.js';
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
  // Counters grow by what the engine counted since the last refresh.
  let last = {...source.counters};
  const refresh = () => {
    const c = source.counters;
    m.prefixQueries.inc(labels, c.prefixQueryTokens - last.prefixQueryTokens);
    m.prefixHits.inc(labels, c.prefixHitTokens - last.prefixHitTokens);
    m.promptTokens.inc(labels, c.promptTokens - last.promptTokens);
    m.generationTokens.inc(labels, c.generationTokens - last.generationTokens);
    m.preemptions.inc(labels, c.preemptions - last.preemptions);
    last = {...c};
    m.running.set(labels, source.numRunning);
    m.waiting.set(labels, source.numWaiting);
    m.kvUsage.set(labels, source.kvUsage);
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
          m.ttft.observe(labels, (now - arrivedAt) / 1000);
          cached = c.cachedTokens ?? 0;
        } else m.itl.observe(labels, (now - prev) / 1000 / c.tokenIds.length);
        prev = now;
        n += c.tokenIds.length;
        if (!c.finishReason) return undefined;
        m.e2e.observe(labels, (now - arrivedAt) / 1000);
        m.success.inc({...labels, finished_reason: c.finishReason});
        return {cachedTokens: cached, generatedTokens: n, finishReason: c.finishReason, elapsedMs: now - arrivedAt};
      },
    };
  };
  return {refresh, render: () => m.registry.render(), request};
}
