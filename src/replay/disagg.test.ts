import {beforeAll, describe, expect, it} from 'vitest';
import {polynomialModel} from '../engines/mocker/perf-model.js';
import {prng} from '../shared/prng.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {KvRouter} from '../router/kv-router.js';
import type {TraceRequest} from '../traces/mooncake.js';
import {type DisaggOptions, type KvLink, replayDisagg, transferMs} from './disagg.js';
import {reportReplay} from './report.js';
import type {ReplayRequest} from './simulate.js';
import {TracePrompts} from './trace-prompts.js';

let hasher: DynamoBlockHasher;
beforeAll(async () => {
  hasher = await DynamoBlockHasher.create(16);
});

const BYTES_PER_TOKEN = 131_072; // llama-3.1-8b in bf16
const engine = {numGpuBlocks: 4096, blockSize: 16, maxNumSeqs: 64, maxNumBatchedTokens: 2048, perf: polynomialModel()};
const perf = polynomialModel();

const kvRouter = (clock: {ms: number}, seed = 1, temperature = 0) =>
  KvRouter.create({blockSize: 16, overlapWeight: 1, temperature, useKvEvents: true, ttlMs: 120_000, maxTreeSize: 1 << 20, pruneTargetRatio: 0.8, random: prng(seed), now: () => clock.ms});

/** One trace request: `ids` hash ids of 128 tokens each (the prompt is all of them), `out` tokens to generate. */
const req = (arrivalMs: number, ids: number[], out = 10): TraceRequest => ({arrivalMs, inputLength: ids.length * 128, outputLength: out, hashIds: ids});

async function disagg(trace: TraceRequest[], over: Partial<DisaggOptions> = {}, seed = 1, temperature = 0) {
  const prompts = new TracePrompts(hasher, 128);
  const requests: ReplayRequest[] = trace.map((r) => ({arrivalMs: r.arrivalMs, outputLength: r.outputLength, prompt: () => prompts.prompt(r)}));
  const clock = {ms: 0};
  const run = replayDisagg(requests, {
    prefillWorkers: 1,
    decodeWorkers: 1,
    engine,
    hasher,
    prefillRouter: await kvRouter(clock, seed, temperature),
    decodeRouter: await kvRouter(clock, seed, temperature),
    link: {gbps: 450, latencyMs: 0.05},
    kvBytesPerToken: BYTES_PER_TOKEN,
    maxLocalPrefillTokens: 0,
    clock,
    ...over,
  });
  return {run, report: reportReplay(run, 16)};
}

describe('transferMs', () => {
  it('is the per-transfer latency plus bytes over bandwidth: longer with more bytes, shorter with more bandwidth', () => {
    const link: KvLink = {gbps: 450, latencyMs: 0.05};
    expect(transferMs(0, link)).toBe(0.05);
    expect(transferMs(450e6, link)).toBeCloseTo(1.05, 12); // 450 MB at 450 GB/s = 1 ms
    expect(transferMs(2 * 450e6, link)).toBeGreaterThan(transferMs(450e6, link));
    expect(transferMs(450e6, {...link, gbps: 25})).toBeGreaterThan(transferMs(450e6, link));
    expect(transferMs(450e6, {...link, gbps: 900})).toBeLessThan(transferMs(450e6, link));
  });
});

describe('replayDisagg', () => {
  it('prefills on the prefill worker (first token), moves the prompt’s KV, and decodes the rest on the decode worker', async () => {
    const {run, report} = await disagg([req(0, [1, 2, 3, 4], 10)]);
    const t = run.timeline;
    // The first token: one prefill step of the whole 512-token prompt on an idle prefill worker.
    expect(t.firstToken[0]).toBeCloseTo(perf.prefillMs(512), 9);
    expect(t.worker[0]).toBe(0); // prefill-0
    expect(t.outputTokens[0]).toBe(10);
    expect(run.workerIds).toEqual(['prefill-0', 'decode-0']);
    const moved = transferMs(512 * BYTES_PER_TOKEN, {gbps: 450, latencyMs: 0.05});
    expect(run.transfers).toMatchObject({count: 1, tokens: 512, bytes: 512 * BYTES_PER_TOKEN, skippedTokens: 0, localPrefills: 0, waitMs: 0});
    expect(run.transfers.transferMs).toBeCloseTo(moved, 9);
    // The decode worker computes no prompt: its first step costs a decode step, and 9 of them follow the landing.
    const decodeSteps = t.finish[0]! - t.firstToken[0]! - moved;
    expect(decodeSteps).toBeGreaterThan(9 * perf.decodeMs(0) - 1e-9);
    expect(decodeSteps).toBeLessThan(9 * perf.decodeMs(0.01));
    expect(report).toMatchObject({completed: 1, transfer: {transfers: 1, localPrefills: 0}});
  });

  it('a slower link moves the same bytes more slowly, which shows in ITL but not in TTFT', async () => {
    const fast = await disagg([req(0, [1, 2, 3, 4])], {link: {gbps: 450, latencyMs: 0.05}});
    const slow = await disagg([req(0, [1, 2, 3, 4])], {link: {gbps: 1, latencyMs: 0.05}});
    expect(slow.run.transfers.bytes).toBe(fast.run.transfers.bytes);
    expect(slow.run.transfers.transferMs).toBeGreaterThan(fast.run.transfers.transferMs);
    expect(slow.run.transfers.transferMs - fast.run.transfers.transferMs).toBeCloseTo((512 * BYTES_PER_TOKEN) / 1e6 - (512 * BYTES_PER_TOKEN) / 450e6, 6);
    expect(slow.report.ttftMs.p50).toBe(fast.report.ttftMs.p50);
    expect(slow.report.itlMs.p50).toBeGreaterThan(fast.report.itlMs.p50);
  });

  it('a decode worker that already caches the prefix receives only the missing blocks', async () => {
    // Same 3-id prefix, then a different last id; the second arrives after the first finished.
    const shared = await disagg([req(0, [1, 2, 3, 4]), req(1000, [1, 2, 3, 5])]);
    const distinct = await disagg([req(0, [1, 2, 3, 4]), req(1000, [6, 7, 8, 9])]);
    expect(distinct.run.transfers).toMatchObject({count: 2, tokens: 1024, skippedTokens: 0});
    expect(shared.run.transfers).toMatchObject({count: 2, tokens: 512 + 128, skippedTokens: 384});
    expect(shared.run.transfers.bytes).toBe(640 * BYTES_PER_TOKEN);
    expect(shared.run.transfers.transferMs).toBeLessThan(distinct.run.transfers.transferMs);
    // The prefill worker reused the prefix as well.
    expect(shared.run.timeline.cachedTokens[1]).toBe(384);
  });

  it('conditional disaggregation: a prompt with few uncached tokens is prefilled on the decode worker, a long one remotely', async () => {
    const trace = [req(0, [1, 2, 3, 4]), req(1000, [1, 2, 3, 5]), req(2000, [10])];
    const {run} = await disagg(trace, {maxLocalPrefillTokens: 200});
    const t = run.timeline;
    // 512 uncached: remote. 128 uncached (the prefix sits on the decode worker): local. 128-token prompt: local.
    expect(Array.from(t.worker)).toEqual([0, 1, 1]);
    expect(run.transfers).toMatchObject({count: 1, localPrefills: 2, tokens: 512});
    expect(t.cachedTokens[1]).toBe(384); // the decode worker's own prefix cache
    expect(Array.from(t.outputTokens)).toEqual([10, 10, 10]);
    // At 0 only prompts the decode worker holds entirely stay local.
    expect((await disagg(trace, {maxLocalPrefillTokens: 0})).run.transfers).toMatchObject({count: 3, localPrefills: 0});
  });

  it('a one-token answer ends at the prefill worker: nothing to transfer', async () => {
    const {run, report} = await disagg([req(0, [1, 2], 1)]);
    expect(run.transfers.count).toBe(0);
    expect(run.timeline.finish[0]).toBe(run.timeline.firstToken[0]);
    expect(report).toMatchObject({completed: 1, unfinished: 0});
  });

  it('waits for room on the decode worker instead of overfilling it, and still serves everyone', async () => {
    // A decode worker of 80 blocks holds two 512-token prompts (32 blocks each) with their outputs, not three.
    const small = {...engine, numGpuBlocks: 80};
    const trace = [req(0, [1, 2, 3, 4], 40), req(0, [5, 6, 7, 8], 40), req(0, [9, 10, 11, 12], 40)];
    const {run, report} = await disagg(trace, {engine: small});
    expect(report).toMatchObject({completed: 3, unfinished: 0});
    expect(run.transfers.count).toBe(3);
    expect(run.transfers.waitMs).toBeGreaterThan(0);
  });

  it('is deterministic for a seed, routers’ random choices included', async () => {
    const rand = prng(3);
    const trace = Array.from({length: 40}, (_, i) => req(i * 20, [Math.floor(rand() * 4), 100 + Math.floor(rand() * 3), 200 + i], 8));
    const opts = {prefillWorkers: 2, decodeWorkers: 3, maxLocalPrefillTokens: 150};
    const a = await disagg(trace, opts, 7, 0.5);
    const b = await disagg(trace, opts, 7, 0.5);
    expect(Array.from(a.run.timeline.finish)).toEqual(Array.from(b.run.timeline.finish));
    expect(Array.from(a.run.timeline.worker)).toEqual(Array.from(b.run.timeline.worker));
    expect(a.run.transfers).toEqual(b.run.transfers);
    expect(a.report.completed).toBe(40);
  });
});
