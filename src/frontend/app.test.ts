/**
 * The HTTP app in-process: the real model pipeline (qwen3-0.6b's tokenizer and chat template), the
 * real worker pool and request plane, and a fake worker behind the request plane that streams a
 * canned reply. Clients are plain fetch, node:http, and the official `openai` SDK.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {type Server, createServer, request} from 'node:http';
import type {AddressInfo, Server as NetServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import OpenAI from 'openai';
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest';
import {withTimeout} from '../../test/helpers/gates.js';
import {registerTestWorker} from '../../test/helpers/test-worker.js';
import {resolveModel} from '../config/models.js';
import {policyRouter} from '../router/policy.js';
import {RoundRobinPolicy} from '../router/round-robin.js';
import {FileDiscovery} from '../runtime/discovery/file-store.js';
import type {Lease} from '../runtime/discovery/types.js';
import {type RequestContext, serveRequestPlane} from '../runtime/request-plane/server.js';
import type {GenerateChunk, GenerateRequest} from '../worker/protocol.js';
import {type FrontendDeps, createFrontendApp} from './app.js';
import {frontendMetrics} from './metrics.js';
import {ModelPipeline} from './model-pipeline.js';
import {nodeHandler} from './serve-node.js';
import {WorkerPool} from './worker-pool.js';

const MODEL = 'qwen3-0.6b';
const API_KEY = 'sk-test-key';
const REPLY = 'Hello from the fake worker, one token at a time.';
const MESSAGES = [{role: 'user' as const, content: 'Say hello.'}];

let pipeline: ModelPipeline;
let replyTokens: number[];
let pool: WorkerPool;
let lease: Lease;
let workerServer: NetServer;
let runDir: string;

/** The fake worker: streams REPLY one token per chunk, or, when told to hang, one token then waits to be cancelled. */
const worker = {
  requests: [] as GenerateRequest[],
  hangNext: false,
  cancelled: undefined as undefined | ((requestId: string) => void),
};

async function* fakeWorker(body: unknown, ctx: RequestContext): AsyncGenerator<GenerateChunk> {
  const req = body as GenerateRequest;
  worker.requests.push(req);
  if (worker.hangNext) {
    worker.hangNext = false;
    yield {tokenIds: [replyTokens[0]!], cachedTokens: 0};
    await new Promise((resolve) => (ctx.signal.aborted ? resolve(undefined) : ctx.signal.addEventListener('abort', resolve)));
    worker.cancelled?.(req.requestId);
    return;
  }
  const n = Math.min(replyTokens.length, req.maxTokens);
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    yield {tokenIds: [replyTokens[i]!], ...(i === 0 ? {cachedTokens: 0} : {}), ...(last ? {finishReason: n < replyTokens.length ? 'length' : 'stop'} : {})};
  }
}

beforeAll(async () => {
  pipeline = await ModelPipeline.load(resolveModel(MODEL), MODEL);
  replyTokens = await pipeline.encoder.encode(REPLY);
  workerServer = await serveRequestPlane(fakeWorker, 0);
  runDir = mkdtempSync(join(tmpdir(), 'dynamo-app-test-'));
  const discovery = new FileDiscovery(runDir);
  lease = await registerTestWorker(runDir, workerServer, {
    id: 'worker-1',
    model: MODEL,
    engine: 'fake',
    metricsPort: 0,
    runtime: {totalKvBlocks: 1024, blockSize: 16, maxNumSeqs: 64, maxNumBatchedTokens: 8192, contextLength: 40960},
  });
  // Health polling would ask the fake worker for its KV usage; it has none to give.
  pool = new WorkerPool(discovery, MODEL, {healthPollMs: 3_600_000});
  pool.start();
});

afterAll(async () => {
  pool?.stop();
  await lease?.revoke();
  workerServer?.close();
  if (runDir) rmSync(runDir, {recursive: true, force: true});
});

const frontends: Server[] = [];
afterEach(() => {
  for (const s of frontends.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A frontend with its own metrics on an ephemeral port; returns its base URL and an SDK client. */
async function startFrontend(overrides: Partial<FrontendDeps> = {}) {
  const deps: FrontendDeps = {
    pool,
    pipeline,
    router: policyRouter(new RoundRobinPolicy()),
    thresholds: {maxInflight: 0, maxKvUsage: 1},
    metrics: frontendMetrics(),
    apiKey: API_KEY,
    bodyLimitBytes: 64 * 1024,
    version: '0.0.0-test',
    accepting: () => true,
    ...overrides,
  };
  const server = createServer(nodeHandler(createFrontendApp(deps)));
  frontends.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new OpenAI({baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0});
  return {url, client, metrics: deps.metrics};
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {method: 'POST', headers: {'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers}, body});

/** Text of token ids, as the frontend's detokenizer writes it. */
function decode(ids: number[]): string {
  const d = pipeline.detokenizer();
  let s = '';
  for (const id of ids) s += d.push(id);
  return s + d.flush();
}

describe('frontend app: refusals', () => {
  it('answers 401 with an OpenAI authentication error when the API key is missing or wrong', async () => {
    const {url, client} = await startFrontend();
    const seenByWorker = worker.requests.length;
    const res = await fetch(`${url}/v1/chat/completions`, {method: 'POST', body: JSON.stringify({model: MODEL, messages: MESSAGES})});
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {message: 'Missing API key: send `Authorization: Bearer <key>`.', type: 'authentication_error', param: null, code: 'invalid_api_key'},
    });
    const wrongKey = new OpenAI({baseURL: client.baseURL, apiKey: 'sk-wrong', maxRetries: 0});
    await expect(wrongKey.chat.completions.create({model: MODEL, messages: MESSAGES})).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(worker.requests.length).toBe(seenByWorker);
  });

  it('answers 404 model_not_found naming the served model', async () => {
    const {url} = await startFrontend();
    const res = await post(`${url}/v1/chat/completions`, JSON.stringify({model: 'gpt-4o', messages: MESSAGES}));
    expect(res.status).toBe(404);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(await res.json()).toEqual({
      error: {message: 'The model `gpt-4o` does not exist. Served: qwen3-0.6b.', type: 'invalid_request_error', param: 'model', code: 'model_not_found'},
    });
  });

  it('answers 400 with an OpenAI error body when the body is not JSON or breaks the schema', async () => {
    const {url} = await startFrontend();
    const bad = await post(`${url}/v1/chat/completions`, '{"model": "qwen3-0.6b", "messages": [');
    expect(bad.status).toBe(400);
    const {error} = (await bad.json()) as {error: Record<string, unknown>};
    expect(error).toMatchObject({type: 'invalid_request_error', param: null, code: 'invalid_request'});
    expect(error.message).toMatch(/^the body is not valid JSON: /);
    const empty = await post(`${url}/v1/chat/completions`, JSON.stringify({model: MODEL, messages: []}));
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({
      error: {message: 'messages: messages must not be empty', type: 'invalid_request_error', param: 'messages', code: 'invalid_request'},
    });
  });

  it('answers 413 when the declared body exceeds the limit', async () => {
    const {url, metrics} = await startFrontend({bodyLimitBytes: 1024});
    const res = await post(`${url}/v1/chat/completions`, JSON.stringify({model: MODEL, messages: [{role: 'user', content: 'x'.repeat(4096)}]}));
    expect(res.status).toBe(413);
    expect(((await res.json()) as {error: {code: string}}).error.code).toBe('payload_too_large');
    expect(metrics.requests.get({model: MODEL, endpoint: 'chat_completions', request_type: 'unknown', status: 'error', error_type: 'validation'})).toBe(1);
  });

  it('refuses new requests with 503 once shutdown began, and /live says so', async () => {
    const {url} = await startFrontend({accepting: () => false});
    const res = await post(`${url}/v1/completions`, JSON.stringify({model: MODEL, prompt: 'Hi'}));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${url}/live`)).status).toBe(503);
  });
});

describe('frontend app: completions', () => {
  it('a unary chat completion carries the reply, its finish reason and usage', async () => {
    const {client} = await startFrontend();
    const {data, response} = await client.chat.completions.create({model: MODEL, messages: MESSAGES}).withResponse();
    const prompt = await pipeline.chatTokens(MESSAGES);
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.model).toBe(MODEL);
    expect(data.choices).toEqual([{index: 0, message: {role: 'assistant', content: REPLY}, logprobs: null, finish_reason: 'stop'}]);
    expect(data.usage).toEqual({
      prompt_tokens: prompt.length,
      completion_tokens: replyTokens.length,
      total_tokens: prompt.length + replyTokens.length,
      prompt_tokens_details: {cached_tokens: 0},
    });
    expect(response.headers.get('x-request-id')).toBe(data.id);
    expect(response.headers.get('x-dynamo-worker-id')).toBe('worker-1');
    expect(worker.requests.at(-1)).toMatchObject({requestId: data.id, tokenIds: prompt});
  });

  it('max_tokens cuts the reply and reports finish_reason length', async () => {
    const {client} = await startFrontend();
    const r = await client.chat.completions.create({model: MODEL, messages: MESSAGES, max_tokens: 3});
    expect(r.choices[0]!.finish_reason).toBe('length');
    expect(r.usage?.completion_tokens).toBe(3);
    expect(REPLY.startsWith(r.choices[0]!.message.content!)).toBe(true);
  });

  it('a streamed chat completion sends a role chunk, the text, a finish chunk, a usage chunk and [DONE]', async () => {
    const {url, client} = await startFrontend();
    const stream = await client.chat.completions.create({model: MODEL, messages: MESSAGES, stream: true, stream_options: {include_usage: true}});
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]!.choices[0]!.delta).toEqual({role: 'assistant', content: ''});
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(REPLY);
    const finish = chunks.at(-2)!;
    expect(finish.choices).toEqual([{index: 0, delta: {}, logprobs: null, finish_reason: 'stop'}]);
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage?.completion_tokens).toBe(replyTokens.length);

    // On the wire: SSE data lines, the last one [DONE].
    const raw = await post(`${url}/v1/chat/completions`, JSON.stringify({model: MODEL, messages: MESSAGES, stream: true}));
    expect(raw.headers.get('content-type')).toBe('text/event-stream');
    const text = await raw.text();
    expect(text.startsWith('data: {')).toBe(true);
    expect(text.endsWith('\n\ndata: [DONE]\n\n')).toBe(true);
    expect(text).not.toContain('"usage"');
  });

  it('a streamed legacy completion ends with a text_completion usage chunk', async () => {
    const {client} = await startFrontend();
    const stream = await client.completions.create({model: MODEL, prompt: 'Once upon a time', max_tokens: 5, stream: true, stream_options: {include_usage: true}});
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(decode(replyTokens.slice(0, 5)));
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('length');
    expect(chunks.at(-1)).toMatchObject({object: 'text_completion', choices: [], usage: {completion_tokens: 5, total_tokens: 5 + (await pipeline.completionTokens('Once upon a time')).length}});
  });
});

describe('frontend app: metrics and disconnects', () => {
  it('/metrics exposes dynamo_frontend_requests_total after a request', async () => {
    const {url, client} = await startFrontend();
    await client.chat.completions.create({model: MODEL, messages: MESSAGES});
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('dynamo_frontend_requests_total{endpoint="chat_completions",error_type="",model="qwen3-0.6b",request_type="unary",status="success"} 1');
    expect(text).toContain('dynamo_frontend_inflight_requests{model="qwen3-0.6b"} 0');
    expect(text).toContain('dynamo_frontend_workers{model="qwen3-0.6b"} 1');
    expect(text).toContain(`dynamo_frontend_output_tokens_total{model="qwen3-0.6b"} ${replyTokens.length}`);
    expect(text).toContain('dynamo_router_decisions_total{router_mode="round-robin",worker_id="worker-1"} 1');
  });

  it('a client that disconnects mid-stream cancels the worker stream', async () => {
    const {url, metrics} = await startFrontend();
    const cancelled = new Promise<string>((resolve) => (worker.cancelled = resolve));
    worker.hangNext = true;
    const firstBytes = new Promise<{requestId: string; destroy: () => void}>((resolve, reject) => {
      const body = JSON.stringify({model: MODEL, messages: MESSAGES, stream: true});
      const req = request(`${url}/v1/chat/completions`, {method: 'POST', headers: {authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json'}}, (res) => {
        // The first token's chunk: the worker is now waiting for more to be asked of it.
        res.on('data', (b: Buffer) => {
          if (b.toString().includes('"content":"Hello"')) resolve({requestId: String(res.headers['x-request-id']), destroy: () => req.destroy()});
        });
      });
      req.on('error', () => {});
      req.on('close', () => reject(new Error('closed before the first token')));
      req.end(body);
    });
    const client = await withTimeout(firstBytes, 10_000, 'the first streamed token');
    client.destroy();
    expect(await withTimeout(cancelled, 10_000, 'the worker to see the cancel')).toBe(client.requestId);
    expect(metrics.disconnected.get({model: MODEL})).toBe(1);
    await vi.waitFor(() => expect(metrics.requests.get({model: MODEL, endpoint: 'chat_completions', request_type: 'stream', status: 'error', error_type: 'cancelled'})).toBe(1));
    expect(metrics.inflight.get({model: MODEL})).toBe(0);
    expect(metrics.queued.get({model: MODEL})).toBe(0);
  });
});

describe('frontend app: model and health routes', () => {
  it('lists the served model, finds it by id, and reports the worker in /health with the last KV event applied from it', async () => {
    const {client, url} = await startFrontend({kvEventId: (w) => (w === 'worker-1' ? 7 : undefined)});
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
    expect((await client.models.retrieve(MODEL)).id).toBe(MODEL);
    await expect(client.models.retrieve('nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const health = (await (await fetch(`${url}/health`)).json()) as {status: string; workers: {id: string}[]};
    expect(health).toMatchObject({status: 'healthy', model: MODEL, workers: [{id: 'worker-1', role: 'agg', kv_event_id: 7}]});
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
  });
});
