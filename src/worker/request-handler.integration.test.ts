/**
 * The worker's request-plane handler in-process: a real mocker engine and the real request-plane
 * server on an ephemeral port, driven through the frontend's client (no built binary).
 */
import type {Server} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {Inbox, withTimeout} from '../../test/helpers/gates.js';
import {until} from '../../test/helpers/processes.js';
import {resolveModel} from '../config/models.js';
import type {WorkerRole} from '../config/schema.js';
import type {WireMessage} from '../kv/wire.js';
import {WorkerConnection} from '../runtime/request-plane/client.js';
import {serveRequestPlane} from '../runtime/request-plane/server.js';
import {type MockerWorkerEngine, buildMockerEngine} from './mocker-engine.js';
import {type OutputText, loadOutputText} from './output-text.js';
import type {GenerateChunk, GenerateRequest} from './protocol.js';
import {workerRequestHandler} from './request-handler.js';
import {type WorkerMetricsFeed, feedWorkerMetrics, mockerMetricsSource} from './worker-metrics.js';

const BLOCK = 16;
const servers: Server[] = [];
const connections: WorkerConnection[] = [];
afterAll(() => {
  for (const c of connections) c.close();
  for (const s of servers) s.close();
});

const MODEL = resolveModel('qwen3-0.6b');
/** Loaded once: the tokenizer is the slow part of starting a worker. */
let output: OutputText;
beforeAll(async () => {
  output = await loadOutputText(MODEL);
});

function buildMocker(speedupRatio: number): Promise<MockerWorkerEngine> {
  const opts = {model: MODEL, blockSize: BLOCK, numGpuBlocks: 8192, gpuMemoryGb: 80, maxNumSeqs: 64, maxNumBatchedTokens: 8192, speedupRatio};
  return buildMockerEngine(opts, output);
}

/** A handler over `mocker` behind a request-plane port, and a client connected to it. */
async function serveHandler(mocker: MockerWorkerEngine, metrics: WorkerMetricsFeed, opts: {role?: WorkerRole; draining?: () => boolean; requestLimit?: number} = {}) {
  const handler = workerRequestHandler({mocker, metrics, role: opts.role ?? 'agg', workerId: 'w0', isDraining: opts.draining ?? (() => false), inFlight: {count: 0}, requestLimit: opts.requestLimit});
  const server = await serveRequestPlane(handler, 0);
  servers.push(server);
  const conn = new WorkerConnection('127.0.0.1', (server.address() as {port: number}).port);
  connections.push(conn);
  return conn;
}

const prompt = (n: number, first = 1) => Array.from({length: n}, (_, i) => first + i);
const request = (id: string, tokenIds: number[], maxTokens: number): GenerateRequest => ({requestId: id, tokenIds, maxTokens, ignoreEos: true});

async function generate(conn: WorkerConnection, req: GenerateRequest): Promise<GenerateChunk[]> {
  const out: GenerateChunk[] = [];
  for await (const c of conn.call(req)) out.push(c as GenerateChunk);
  return out;
}
const tokensIn = (chunks: GenerateChunk[]) => chunks.reduce((n, c) => n + c.tokenIds.length, 0);

describe('the worker request handler (mocker at speedup ∞)', () => {
  let w: {mocker: MockerWorkerEngine; metrics: WorkerMetricsFeed; conn: WorkerConnection};
  beforeAll(async () => {
    const mocker = await buildMocker(Number.POSITIVE_INFINITY);
    const metrics = feedWorkerMetrics(mockerMetricsSource(mocker), 'qwen3-0.6b', BLOCK);
    w = {mocker, metrics, conn: await serveHandler(mocker, metrics)};
  });

  it('streams every requested token, finishes with "length", and serves a repeated prompt from the prefix cache', async () => {
    const first = await generate(w.conn, request('r1', prompt(40), 50));
    expect(tokensIn(first)).toBe(50);
    expect(first.at(-1)!.finishReason).toBe('length');
    expect(first.slice(0, -1).every((c) => c.finishReason === undefined)).toBe(true);
    expect(first[0]!.cachedTokens).toBe(0);
    // The same 40-token prompt again: its 2 full blocks are cached, the 8-token tail is not.
    const again = await generate(w.conn, request('r2', prompt(40), 5));
    expect(again[0]!.cachedTokens).toBe(2 * BLOCK);
    const metrics = w.metrics.render();
    expect(metrics).toMatch(/^vllm:request_success_total\{engine="0",finished_reason="length",model_name="qwen3-0.6b"\} 2$/m);
    expect(metrics).toMatch(/^vllm:generation_tokens_total\{engine="0",model_name="qwen3-0.6b"\} 55$/m);
  });

  it('answers a malformed request with a typed invalid_request error', async () => {
    await expect(generate(w.conn, {requestId: 'bad', tokenIds: [], maxTokens: 5})).rejects.toMatchObject({kind: 'invalid_request', message: 'tokenIds must be a non-empty array'});
  });

  it("streams a router's KV-event subscription: a snapshot first, then the blocks a new prompt stores", async () => {
    const ac = new AbortController();
    const inbox = new Inbox<WireMessage>();
    const subscription = (async () => {
      for await (const m of w.conn.call({kind: 'kv_events'}, ac.signal)) inbox.push(m as WireMessage);
    })().catch(() => {});
    const reset = await inbox.next('the subscription to start with a reset');
    expect(reset).toMatchObject({reset: true});
    const next = (reset as {next: number}).next;
    // Earlier tests left blocks in the cache: the snapshot lists them as state (no event ids).
    const snapshot = (reset as {snapshot: {id?: number}[]}).snapshot;
    expect(snapshot.length).toBeGreaterThan(0);
    expect(snapshot.every((e) => e.id === undefined)).toBe(true);
    // A 48-token prompt (3 full blocks) that shares nothing with earlier ones, one output token.
    await generate(w.conn, request('kv', prompt(48, 10_000), 1));
    const stored = () =>
      inbox.items.flatMap((m) => ('events' in m ? m.events : [])).filter((e) => e.type === 'stored').reduce((n, e) => n + e.blocks!.length / 8, 0);
    await inbox.until(() => stored() === 3, 'the 3 stored blocks of the new prompt');
    const events = inbox.items.flatMap((m) => ('events' in m ? m.events : []));
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => next + i));
    ac.abort();
    await subscription;
  });

  it('a prefill worker produces exactly one token whatever max_tokens asks', async () => {
    const conn = await serveHandler(w.mocker, w.metrics, {role: 'prefill'});
    const chunks = await generate(conn, request('p', prompt(64), 200));
    expect(tokensIn(chunks)).toBe(1);
    expect(chunks.at(-1)!.finishReason).toBe('length');
  });

  it('continues a migrated request exactly where the worker before it stopped (same seed, same reply)', async () => {
    const tokens = (chunks: GenerateChunk[]) => chunks.flatMap((c) => c.tokenIds);
    // Natural length (EOS) and min_tokens in play: the request as a client sent it, undisturbed.
    const whole: GenerateRequest = {requestId: 'm1', tokenIds: prompt(30, 500), maxTokens: 300, minTokens: 40, seed: 42};
    const all = await generate(w.conn, whole);
    const reply = tokens(all);
    expect(reply.length).toBeGreaterThan(40);
    for (const cut of [1, 17, reply.length - 1]) {
      const rest = await generate(w.conn, {
        ...whole,
        requestId: `m1-${cut}`,
        tokenIds: [...whole.tokenIds, ...reply.slice(0, cut)],
        maxTokens: whole.maxTokens - cut,
        minTokens: Math.max(0, whole.minTokens! - cut),
        resumed: {promptTokens: whole.tokenIds.length, generatedTokens: cut, maxTokens: whole.maxTokens, minTokens: whole.minTokens},
      });
      expect([...reply.slice(0, cut), ...tokens(rest)]).toEqual(reply);
      expect(rest.at(-1)!.finishReason).toBe(all.at(-1)!.finishReason);
    }
  });

  it('a draining worker refuses new requests with worker_draining', async () => {
    let draining = false;
    const conn = await serveHandler(w.mocker, w.metrics, {draining: () => draining});
    expect(tokensIn(await generate(conn, request('before', prompt(20), 3)))).toBe(3);
    draining = true;
    await expect(generate(conn, request('after', prompt(20), 3))).rejects.toMatchObject({kind: 'worker_draining', message: 'w0 is shutting down'});
  });

  it('sheds a request past --engine-request-limit with worker_busy, and takes one again once a stream ends', async () => {
    const slow = await buildMocker(1);
    const conn = await serveHandler(slow, feedWorkerMetrics(mockerMetricsSource(slow), 'qwen3-0.6b', BLOCK), {requestLimit: 2});
    const first = generate(conn, request('one', prompt(20), 40));
    const second = generate(conn, request('two', prompt(20, 100), 40));
    await expect(generate(conn, request('three', prompt(20, 200), 3))).rejects.toMatchObject({kind: 'worker_busy', message: 'w0 has 2 requests in flight, its limit'});
    await Promise.all([first, second]);
    expect(tokensIn(await generate(conn, request('four', prompt(20, 300), 3)))).toBe(3);
  });
});

describe('the worker request handler, cancelling', () => {
  it("a client's cancel stops the request in the engine and frees its KV blocks", async () => {
    // Modelled speed: a 100,000-token request is still running when the cancel arrives.
    const mocker = await buildMocker(1);
    const conn = await serveHandler(mocker, feedWorkerMetrics(mockerMetricsSource(mocker), 'qwen3-0.6b', BLOCK));
    const ac = new AbortController();
    let received = 0;
    const stream = (async () => {
      for await (const c of conn.call(request('long', prompt(100), 100_000), ac.signal)) {
        received += (c as GenerateChunk).tokenIds.length;
        ac.abort();
      }
    })();
    await expect(withTimeout(stream, 10_000, 'the cancelled stream to end')).rejects.toMatchObject({kind: 'cancelled'});
    expect(received).toBeGreaterThan(0);
    await until(() => mocker.engine.inFlight === 0, 5000, 'the engine to drop the cancelled request');
    expect(mocker.blocks.activeBlocks).toBe(0);
    expect(mocker.scheduler.counters.generationTokens).toBeLessThan(100_000);
  });
});
