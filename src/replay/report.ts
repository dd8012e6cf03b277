/**
 * What a replay measured, from its per-request timeline (pure):
 * - prefix-cache hit rate in blocks (cached full blocks / full prompt blocks) and in tokens
 *   (cached prompt tokens / prompt tokens), as the engines saw them when each request started;
 * - TTFT = first token − arrival; ITL = (finish − first token) / (output tokens − 1), AIPerf's
 *   per-request inter-token latency; E2E = finish − arrival;
 * - throughput over the span from the first arrival to the last finish;
 * - load spread: requests and prompt tokens per worker, max/mean.
 */
import {type Summary, summarize} from '../metrics/stats.js';
import type {ReplayRun} from './simulate.js';

export interface ReplayReport {
  requests: number;
  completed: number;
  /** Requests that never finished (e.g. a prompt larger than a worker's whole KV cache). */
  unfinished: number;
  durationS: number;
  hitRate: {blocks: number; tokens: number};
  ttftMs: Summary;
  itlMs: Summary;
  e2eMs: Summary;
  throughput: {requestsPerS: number; outputTokensPerS: number; inputTokensPerS: number};
  perWorker: {id: string; requests: number; inputTokens: number; cachedTokens: number}[];
  /** max / mean of prompt tokens per worker (1 = perfectly even). */
  loadImbalance: number;
  steps: number;
  preemptions: number;
}

export function reportReplay(run: ReplayRun, blockSize: number): ReplayReport {
  const t = run.timeline;
  const n = t.arrival.length;
  const ttft: number[] = [];
  const itl: number[] = [];
  const e2e: number[] = [];
  let cachedBlocks = 0;
  let promptBlocks = 0;
  let cachedTokens = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let completed = 0;
  const perWorker = run.workerIds.map((id) => ({id, requests: 0, inputTokens: 0, cachedTokens: 0}));
  for (let i = 0; i < n; i++) {
    const w = perWorker[t.worker[i]!]!;
    w.requests++;
    w.inputTokens += t.inputTokens[i]!;
    w.cachedTokens += t.cachedTokens[i]!;
    inputTokens += t.inputTokens[i]!;
    cachedTokens += t.cachedTokens[i]!;
    promptBlocks += t.promptBlocks[i]!;
    cachedBlocks += Math.min(t.promptBlocks[i]!, Math.floor(t.cachedTokens[i]! / blockSize));
    if (Number.isNaN(t.finish[i]!)) continue;
    completed++;
    outputTokens += t.outputTokens[i]!;
    ttft.push(t.firstToken[i]! - t.arrival[i]!);
    e2e.push(t.finish[i]! - t.arrival[i]!);
    if (t.outputTokens[i]! > 1) itl.push((t.finish[i]! - t.firstToken[i]!) / (t.outputTokens[i]! - 1));
  }
  const durationS = n ? (run.endMs - t.arrival[0]!) / 1000 : 0;
  const meanInput = inputTokens / Math.max(1, perWorker.length);
  return {
    requests: n,
    completed,
    unfinished: n - completed,
    durationS,
    hitRate: {blocks: promptBlocks ? cachedBlocks / promptBlocks : 0, tokens: inputTokens ? cachedTokens / inputTokens : 0},
    ttftMs: summarize(ttft),
    itlMs: summarize(itl),
    e2eMs: summarize(e2e),
    throughput: {
      requestsPerS: durationS > 0 ? completed / durationS : 0,
      outputTokensPerS: durationS > 0 ? outputTokens / durationS : 0,
      inputTokensPerS: durationS > 0 ? inputTokens / durationS : 0,
    },
    perWorker,
    loadImbalance: meanInput ? Math.max(...perWorker.map((w) => w.inputTokens)) / meanInput : 0,
    steps: run.steps,
    preemptions: run.preemptions,
  };
}
