import {beforeAll, describe, expect, it} from 'vitest';
import {polynomialModel} from '../engines/mocker/perf-model.js';
import {prng} from '../shared/prng.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {KvRouter} from '../router/kv-router.js';
import {type RequestRouter, policyRouter} from '../router/policy.js';
import {RoundRobinPolicy} from '../router/round-robin.js';
import {reportReplay} from './report.js';
import {type ReplayRequest, replay} from './simulate.js';
import type {TraceRequest} from '../traces/mooncake.js';
import {TracePrompts} from './trace-prompts.js';

let hasher: DynamoBlockHasher;
beforeAll(async () => {
  hasher = await DynamoBlockHasher.create(16);
});

/** 6 prefix groups × 8 requests: 3 shared ids then 1 of its own, one arrival every 100 ms, shuffled groups. */
function workload(): TraceRequest[] {
  const rand = prng(7);
  const out: TraceRequest[] = [];
  let unique = 1000;
  for (let i = 0; i < 48; i++) {
    const g = Math.floor(rand() * 6);
    out.push({arrivalMs: i * 100, inputLength: 4 * 128, outputLength: 20, hashIds: [g * 10, g * 10 + 1, g * 10 + 2, unique++]});
  }
  return out;
}

const engine = {numGpuBlocks: 4096, blockSize: 16, maxNumSeqs: 64, maxNumBatchedTokens: 2048, perf: polynomialModel()};

async function run(router: RequestRouter, trace = workload()) {
  const prompts = new TracePrompts(hasher, 128);
  const requests: ReplayRequest[] = trace.map((r) => ({arrivalMs: r.arrivalMs, outputLength: r.outputLength, prompt: () => prompts.prompt(r)}));
  const clock = {ms: 0};
  const r = replay(requests, {workers: 4, engine, hasher, router, clock});
  return {run: r, report: reportReplay(r, 16)};
}

const kvRouter = (clock?: {ms: number}) =>
  KvRouter.create({blockSize: 16, overlapWeight: 1, temperature: 0, useKvEvents: true, ttlMs: 120_000, maxTreeSize: 1 << 20, pruneTargetRatio: 0.8, random: prng(1), now: () => clock?.ms ?? 0});

describe('replay', () => {
  it('serves every request and reports exact counts and sane timings', async () => {
    const {run: r, report} = await run(policyRouter(new RoundRobinPolicy()));
    expect(report).toMatchObject({requests: 48, completed: 48, unfinished: 0});
    expect(Array.from(r.timeline.outputTokens).every((n) => n === 20)).toBe(true);
    expect(Array.from(r.timeline.worker.slice(0, 8))).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    for (let i = 0; i < 48; i++) {
      expect(r.timeline.firstToken[i]!).toBeGreaterThan(r.timeline.arrival[i]!);
      expect(r.timeline.finish[i]!).toBeGreaterThan(r.timeline.firstToken[i]!);
    }
    // A lone 512-token prompt on an idle engine: TTFT is exactly one prefill step.
    expect(report.ttftMs.min).toBeGreaterThanOrEqual(polynomialModel().prefillMs(512 - 3 * 128) - 1e-9);
    expect(report.perWorker.map((w) => w.requests)).toEqual([12, 12, 12, 12]);
  });

  it('kv routing (fed by the engines’ KV events) hits the prefix cache far more than round-robin', async () => {
    const rr = (await run(policyRouter(new RoundRobinPolicy()))).report;
    const kv = (await run(await kvRouter())).report;
    // Ideal: every request after its group's first reuses 3 of 4 ids: 42/48 × 3/4 = 65.6 % of blocks.
    expect(kv.hitRate.blocks).toBeGreaterThan(0.6);
    expect(rr.hitRate.blocks).toBeLessThan(kv.hitRate.blocks - 0.2);
    expect(kv.ttftMs.mean).toBeLessThan(rr.ttftMs.mean);
  });

  it('is deterministic and lets requests with equal timestamps arrive together', async () => {
    const burst = workload().map((r) => ({...r, arrivalMs: 0}));
    const a = await run(await kvRouter(), burst);
    const b = await run(await kvRouter(), burst);
    expect(Array.from(a.run.timeline.arrival).every((t) => t === 0)).toBe(true);
    expect(Array.from(a.run.timeline.finish)).toEqual(Array.from(b.run.timeline.finish));
    expect(a.report.completed).toBe(48);
  });

  it('reports a prompt that can never fit in a worker’s KV cache as unfinished instead of hanging', async () => {
    const tiny = {...engine, numGpuBlocks: 8};
    const prompts = new TracePrompts(hasher, 128);
    const r: TraceRequest = {arrivalMs: 0, inputLength: 512, outputLength: 5, hashIds: [1, 2, 3, 4]};
    const out = replay([{arrivalMs: 0, outputLength: 5, prompt: () => prompts.prompt(r)}], {workers: 1, engine: tiny, hasher, router: policyRouter(new RoundRobinPolicy())});
    expect(reportReplay(out, 16)).toMatchObject({requests: 1, completed: 0, unfinished: 1});
  });
});
