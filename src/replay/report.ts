/**
 * What a replay measured, from its per-request timeline (pure):
 * - prefix-cache hit rate in blocks (cached full blocks / full prompt blocks) and in tokens
 *   (cached prompt tokens / prompt tokens), as the engines saw them when each request started;
 * - TTFT = first token − arrival; ITL = (finish − first token) / (output tokens − 1), AIPerf's
 *   per-request inter-token latency; E2E = finish − arrival;
 * - throughput over the span from the first arrival to the last finish;
 * - load spread: requests and prompt tokens per worker, max/mean (disaggregated: over the prefill
 *   pool, where the prompts are computed; local prefills on decode workers are listed, not counted);
 * - goodput, when SLOs are given: requests meeting every SLO, as AIPerf counts them (a request
 *   without the metric, e.g. ITL of a one-token answer or an unfinished request, fails), as a
 *   fraction of all requests and per second of the run;
 * - disaggregated runs: the KV transfers (bytes, tokens, mean transfer time, mean wait for the
 *   decode worker's room) and the requests prefilled on their decode worker.
 */
import {type Summary, summarize} from '../metrics/stats.js';
import type {DisaggRun} from './disagg.js';
import type {ReplayRun} from './simulate.js';

/** Upper bounds in ms; unset = not an objective. ITL is AIPerf's per-request inter-token latency (vLLM's TPOT). */
export interface ReplaySlos {
  ttftMs?: number;
  itlMs?: number;
  e2eMs?: number;
}

export interface GoodputReport {
  /** Requests meeting every SLO. */
  met: number;
  /** met / requests. */
  fraction: number;
  /** met / duration: AIPerf's goodput. */
  requestsPerS: number;
}

export interface TransferReport {
  /** Requests whose KV crossed the link, and requests prefilled on their decode worker. */
  transfers: number;
  localPrefills: number;
  bytes: number;
  tokens: number;
  /** Prompt tokens the decode worker already cached, so not sent. */
  skippedTokens: number;
  /** Mean transfer time: start → KV landed on the decode worker (link queueing included). */
  meanMs: number;
  /** Mean wait from the first token until the decode worker had room to take the KV. */
  meanWaitMs: number;
}

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
  goodput?: GoodputReport;
  transfer?: TransferReport;
}

const isDisagg = (run: ReplayRun | DisaggRun): run is DisaggRun => 'transfers' in run;

export function reportReplay(run: ReplayRun | DisaggRun, blockSize: number, slos?: ReplaySlos): ReplayReport {
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
  let met = 0;
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
    const requestItl = t.outputTokens[i]! > 1 ? (t.finish[i]! - t.firstToken[i]!) / (t.outputTokens[i]! - 1) : Number.NaN;
    if (!Number.isNaN(requestItl)) itl.push(requestItl);
    if (slos && meetsSlos(slos, ttft.at(-1)!, requestItl, e2e.at(-1)!)) met++;
  }
  const durationS = n ? (run.endMs - t.arrival[0]!) / 1000 : 0;
  const balanced = perWorker.slice(0, run.balancedWorkers ?? perWorker.length);
  const meanInput = balanced.reduce((a, w) => a + w.inputTokens, 0) / Math.max(1, balanced.length);
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
    loadImbalance: meanInput ? Math.max(...balanced.map((w) => w.inputTokens)) / meanInput : 0,
    steps: run.steps,
    preemptions: run.preemptions,
    ...(slos ? {goodput: {met, fraction: n ? met / n : 0, requestsPerS: durationS > 0 ? met / durationS : 0}} : {}),
    ...(isDisagg(run) ? {transfer: transferReport(run)} : {}),
  };
}

/** A missing measurement (NaN) fails the SLO it is asked for. */
function meetsSlos(slos: ReplaySlos, ttftMs: number, itlMs: number, e2eMs: number): boolean {
  const within = (bound: number | undefined, v: number) => bound === undefined || v <= bound; // NaN ≤ x is false
  return within(slos.ttftMs, ttftMs) && within(slos.itlMs, itlMs) && within(slos.e2eMs, e2eMs);
}

function transferReport(run: DisaggRun): TransferReport {
  const x = run.transfers;
  return {
    transfers: x.count,
    localPrefills: x.localPrefills,
    bytes: x.bytes,
    tokens: x.tokens,
    skippedTokens: x.skippedTokens,
    meanMs: x.count ? x.transferMs / x.count : Number.NaN,
    meanWaitMs: x.count ? x.waitMs / x.count : Number.NaN,
  };
}
