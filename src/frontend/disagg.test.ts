import {describe, expect, it} from 'vitest';
import type {RequestRouter, RouteDecision, WorkerSnapshot} from '../router/policy.js';
import type {GenerateChunk, KvTransferParams} from '../worker/protocol.js';
import {type DisaggSettings, prefillFirst} from './disagg.js';
import type {GenerationDeps, GenerationInput} from './generate.js';

const HANDOFF: KvTransferParams = {peer: 'prefill-0', agent: 'dynamo-xfer/1;name=prefill-0', leaseId: 'r1', blockBytes: 4096, slots: [3, 4]};
const SETTINGS: DisaggSettings = {maxLocalPrefillLength: 100, maxPrefillQueueSize: 2, blockSize: 16};

/** A pool with the given prefill workers, each answering with `reply` (or throwing). */
function deps(prefill: WorkerSnapshot[], reply: () => AsyncGenerator<GenerateChunk>) {
  const booked: string[] = [];
  const calls: unknown[] = [];
  const router: RequestRouter = {
    name: 'test',
    choose: (req, workers) => {
      booked.push(`choose ${req.id}`);
      return {workerId: workers[0]!.id};
    },
    firstToken: (id) => void booked.push(`first ${id}`),
    done: (id) => void booked.push(`done ${id}`),
  };
  const pool = {
    snapshot: (roles?: readonly string[]) => (roles?.includes('prefill') ? prefill : []),
    call: (id: string, body: unknown) => {
      calls.push({id, body});
      return reply();
    },
  };
  return {d: {router, pool} as unknown as GenerationDeps, booked, calls};
}

const input = (tokens: number): GenerationInput => ({requestId: 'r1', promptTokens: Array.from({length: tokens}, (_, i) => i), maxTokens: 50, stop: [], seed: 7, arrivedAt: 0, signal: new AbortController().signal});
const decode = (overlapBlocks = 0): RouteDecision => ({workerId: 'decode-0', overlapBlocks});
const worker = (id: string, inFlight = 0): WorkerSnapshot => ({id, inFlight, kvUsage: 0});
async function* handoff(): AsyncGenerator<GenerateChunk> {
  yield {tokenIds: [5], finishReason: 'length', kvTransfer: HANDOFF};
}

describe('prefillFirst (conditional disaggregation)', () => {
  it('prefills remotely when the uncached part is long: one token, not tied to the client, booked and released', async () => {
    const {d, booked, calls} = deps([worker('prefill-0')], handoff);
    expect(await prefillFirst(d, SETTINGS, 'r1', input(400), decode(10))).toEqual({remote: true, kvTransfer: HANDOFF, prefillWorker: 'prefill-0'});
    expect(calls).toMatchObject([{id: 'prefill-0', body: {requestId: 'r1', maxTokens: 1, seed: 7}}]);
    expect(booked).toEqual(['choose r1#prefill', 'first r1#prefill', 'done r1#prefill']);
  });

  it('serves aggregated on the decode worker when no prefill worker is up', async () => {
    const {d, calls} = deps([], handoff);
    expect(await prefillFirst(d, SETTINGS, 'r1', input(400), decode())).toEqual({remote: false, why: 'no_prefill_worker'});
    expect(calls).toEqual([]);
  });

  it('prefills locally when what the decode worker lacks is short', async () => {
    const {d} = deps([worker('prefill-0')], handoff);
    // 400 tokens, 20 blocks of 16 cached: 80 left ≤ 100.
    expect(await prefillFirst(d, SETTINGS, 'r1', input(400), decode(20))).toMatchObject({remote: false, why: 'short_prompt'});
  });

  it('prefills locally when the prefill worker already has a full queue, releasing the booking', async () => {
    const {d, booked} = deps([worker('prefill-0', 2)], handoff);
    expect(await prefillFirst(d, SETTINGS, 'r1', input(400), decode())).toMatchObject({remote: false, why: 'prefill_queue_full'});
    expect(booked).toEqual(['choose r1#prefill', 'done r1#prefill']);
  });

  it('prefills locally when the prefill fails or holds nothing', async () => {
    const failing = deps([worker('prefill-0')], async function* () {
      yield* [];
      throw new Error('worker prefill-0 left');
    });
    expect(await prefillFirst(failing.d, SETTINGS, 'r1', input(400), decode())).toMatchObject({remote: false, why: 'prefill_failed', error: 'worker prefill-0 left'});
    expect(failing.booked.at(-1)).toBe('done r1#prefill');
    const empty = deps([worker('prefill-0')], async function* () {
      yield {tokenIds: [5], finishReason: 'length'};
    });
    expect(await prefillFirst(empty.d, SETTINGS, 'r1', input(400), decode())).toMatchObject({remote: false, why: 'nothing_held'});
  });
});
