/**
 * Failure paths of the serving stack, on the built binary: busy workers, a worker dying
 * mid-stream, a client going away, oversized bodies.
 */
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

describe('serving failures (one slow mocker worker)', () => {
  requireBinary();
  let up: Awaited<ReturnType<typeof startUntil>>;
  let client: OpenAI;
  let port: number;
  let base: number;
  const home = tempDir();

  beforeAll(async () => {
    port = await freePort();
    base = await freePortRange(2);
    up = await startUntil(['up', '--model', 'qwen3-0.6b', '--workers', '1', '--port', String(port), '--name', 'failures', '--log-level', 'debug'], /ready in/, {
      env: {
        DYN_HOME: home,
        DYN_WORKERS_BASE_PORT: String(base),
        DYN_ROUTER_BUSY_MAX_INFLIGHT: '1',
        DYN_FRONTEND_BODY_LIMIT_MB: '1',
        DYN_SUPERVISOR_MAX_RESTARTS: '5',
      },
      timeoutMs: 60_000,
    });
    client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'none', maxRetries: 0});
  });
  afterAll(async () => {
    up?.child.kill('SIGTERM');
    await up?.child;
  });

  const runningOnWorker = async () => {
    const text = await (await fetch(`http://127.0.0.1:${base + 1}/metrics`)).text();
    return Number(/^vllm:num_requests_running\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? -1);
  };

  it('answers 503 with Retry-After when every worker is busy', async () => {
    const first = await client.chat.completions.create({model: 'qwen3-0.6b', messages: [{role: 'user', content: 'long'}], max_tokens: 400, stream: true});
    const it1 = first[Symbol.asyncIterator]();
    await it1.next();
    const raw = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({model: 'qwen3-0.6b', messages: [{role: 'user', content: 'second'}], max_tokens: 2}),
    });
    expect(raw.status).toBe(503);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(((await raw.json()) as any).error.code).toBe('overloaded');
    first.controller.abort();
  });

  it('cancels the request on the worker when the client disconnects', async () => {
    await until(async () => (await runningOnWorker()) === 0, 5000, 'worker idle');
    const stream = await client.chat.completions.create({model: 'qwen3-0.6b', messages: [{role: 'user', content: 'go'}], max_tokens: 5000, ignore_eos: true, stream: true} as never);
    let n = 0;
    for await (const _ of stream as unknown as AsyncIterable<unknown>) {
      if (++n < 3) continue;
      // Mid-stream the worker is running it (5,000 tokens at modelled speed take seconds).
      expect(await runningOnWorker()).toBe(1);
      break; // closes the connection
    }
    await until(async () => (await runningOnWorker()) === 0, 3000, 'the worker to drop the cancelled request');
  });

  it('rejects a body over the limit with 413', async () => {
    const raw = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({model: 'qwen3-0.6b', prompt: 'x'.repeat(2 * 1024 * 1024)}),
    });
    expect(raw.status).toBe(413);
    expect(((await raw.json()) as any).error.code).toBe('payload_too_large');
  });

  it('serves /live, /metrics and /openapi.json', async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/live`)).json()).toEqual({status: 'live', message: 'Service is live'});
    await until(async () => (await runningOnWorker()) === 0, 5000, 'worker idle');
    await client.completions.create({model: 'qwen3-0.6b', prompt: 'metrics', max_tokens: 3});
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const name of ['dynamo_frontend_requests_total', 'dynamo_frontend_inflight_requests', 'dynamo_frontend_queued_requests', 'dynamo_frontend_time_to_first_token_seconds_bucket', 'dynamo_frontend_inter_token_latency_seconds_bucket', 'dynamo_frontend_request_duration_seconds_bucket', 'dynamo_frontend_input_sequence_tokens_bucket']) {
      expect(metrics).toContain(name);
    }
    const spec = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as {paths: object};
    expect(Object.keys(spec.paths)).toContain('/v1/chat/completions');
  });

  it('logs every request at log level debug (frontend and worker)', async () => {
    await client.completions.create({model: 'qwen3-0.6b', prompt: 'logged', max_tokens: 2});
    await until(async () => {
      const logs = await dynamo(['logs', '--name', 'failures', '--lines', '400'], {env: {DYN_HOME: home}});
      return /frontend@local │ debug: POST \/v1\/completions → 200 agg-0/.test(logs.stdout) && /agg-0@local +│ debug: cmpl-[\w-]+: \d+ prompt tokens/.test(logs.stdout);
    }, 5000, 'debug lines in the logs');
  });

  it('ends a stream with an error event when its worker dies mid-stream', async () => {
    await until(async () => (await runningOnWorker()) === 0, 5000, 'worker idle');
    const stream = await client.chat.completions.create({model: 'qwen3-0.6b', messages: [{role: 'user', content: 'die'}], max_tokens: 5000, ignore_eos: true, stream: true} as never);
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env: {DYN_HOME: home}})).stdout);
    const worker = ps[0].processes.find((p: {id: string}) => p.id === 'agg-0');
    let n = 0;
    const err = await (async () => {
      for await (const _ of stream as unknown as AsyncIterable<unknown>) if (++n === 2) process.kill(worker.pid, 'SIGKILL');
    })().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).toMatch(/went away mid-request/);
    // With no worker left the frontend says so cleanly, until the supervisor restarts it.
    const raw = await fetch(`http://127.0.0.1:${port}/v1/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({model: 'qwen3-0.6b', prompt: 'x', max_tokens: 1})});
    expect([200, 503]).toContain(raw.status);
  });
});
