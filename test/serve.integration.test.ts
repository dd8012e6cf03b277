/**
 * `dynamo up` on the mocker, driven by the official openai client (maxRetries: 0) against the
 * built binary: the OpenAI surface a user relies on, errors included.
 */
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {freePort, freePortRange, pidAlive, requireBinary, tempDir, until} from './helpers/processes.js';

describe('dynamo up serving deepseek-r1 on the mocker (openai client)', () => {
  requireBinary();
  let up: Awaited<ReturnType<typeof startUntil>>;
  let client: OpenAI;
  let port: number;
  const home = tempDir();
  const env = () => ({DYN_HOME: home});

  beforeAll(async () => {
    port = await freePort();
    const base = await freePortRange(6);
    up = await startUntil(
      ['up', '--model', 'deepseek-r1', '--workers', '3', '--port', String(port), '--api-key', 'sk-test', '--name', 'serve'],
      /ready in/,
      // A small pre-touch (frontend.preTouchMb through its environment twin): checked below.
      {env: {...env(), DYN_WORKERS_BASE_PORT: String(base), DYN_FRONTEND_PRE_TOUCH_MB: '32'}, timeoutMs: 60_000},
    );
    client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-test', maxRetries: 0});
  });
  afterAll(async () => {
    up?.child.kill('SIGTERM');
    await up?.child;
  });

  it('the frontend pre-touched the heap it was told to, in the runtime that keeps it', async () => {
    const logs = await dynamo(['logs', 'frontend', '--name', 'serve'], {env: env()});
    expect(logs.stdout).toMatch(/pre-touched 32 MB of heap in \d+ ms/);
  });

  it('answers a chat completion with readable text and usage', async () => {
    const r = await client.chat.completions.create({model: 'deepseek-r1', messages: [{role: 'user', content: 'Hello there'}], max_tokens: 20});
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message.role).toBe('assistant');
    expect(r.choices[0]!.message.content).toMatch(/^[A-Z][a-z]*( [A-Za-z.,]+)*$/);
    expect(r.choices[0]!.finish_reason).toBe('length');
    // <｜begin▁of▁sentence｜><｜User｜>Hello there<｜Assistant｜><think>\n: R1's template opens the think block.
    expect(r.usage).toMatchObject({prompt_tokens: 7, completion_tokens: 20, total_tokens: 27});
    // 5 prompt tokens fill no KV block (16 tokens), so nothing can come from the prefix cache.
    expect(r.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
  });

  it('separates DeepSeek-R1 reasoning into reasoning_content, streamed and not', async () => {
    const r = await client.chat.completions.create({model: 'deepseek-r1', messages: [{role: 'user', content: 'Think first'}], max_tokens: 60, seed: 7});
    const msg = r.choices[0]!.message as {content: string; reasoning_content?: string};
    expect(msg.reasoning_content).toMatch(/^[A-Z][a-z]+( [A-Za-z.,]+)+\s*$/);
    expect(msg.content).not.toContain('think>');
    expect(msg.content.length).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({model: 'deepseek-r1', messages: [{role: 'user', content: 'Think first'}], max_tokens: 60, seed: 7, stream: true});
    let reasoning = '';
    let content = '';
    for await (const c of stream) {
      const d = c.choices[0]?.delta as {content?: string; reasoning_content?: string} | undefined;
      reasoning += d?.reasoning_content ?? '';
      content += d?.content ?? '';
    }
    expect(reasoning).toBe(msg.reasoning_content);
    expect(content).toBe(msg.content);
  });

  it('returns tool calls for a request that offers tools', async () => {
    const tools = [{type: 'function' as const, function: {name: 'get_weather', parameters: {type: 'object', properties: {city: {type: 'string'}}}}}];
    const r = await client.chat.completions.create({model: 'deepseek-r1', messages: [{role: 'user', content: 'Weather in Paris?'}], tools, max_tokens: 200});
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    const call = r.choices[0]!.message.tool_calls![0]! as {type: string; id: string; function: {name: string; arguments: string}};
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({});
    expect(call.id).toMatch(/^call_/);
    const stream = await client.chat.completions.create({model: 'deepseek-r1', messages: [{role: 'user', content: 'Weather in Paris?'}], tools, max_tokens: 200, stream: true});
    const names: string[] = [];
    let finish: string | null = null;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) if (t.function?.name) names.push(t.function.name);
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(names).toEqual(['get_weather']);
    expect(finish).toBe('tool_calls');
  });

  it('streams a chat completion with usage at the end', async () => {
    const stream = await client.chat.completions.create({
      model: 'deepseek-r1',
      messages: [{role: 'user', content: 'Stream please'}],
      max_completion_tokens: 40,
      stream: true,
      stream_options: {include_usage: true},
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let roleSeen = false;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.role === 'assistant') roleSeen = true;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(roleSeen).toBe(true);
    expect(text.length).toBeGreaterThan(10);
    expect(finish).toBe('length');
    expect(usage).toMatchObject({completion_tokens: 40});
  });

  it('serves a repeated conversation from the prefix cache: every full KV block of its prompt (cached_tokens)', async () => {
    const messages = [{role: 'user' as const, content: `${'A long shared context about caching. '.repeat(40)}Question one?`}];
    // 4 sends over 3 workers: whatever the router picks, at least two land on the same worker.
    const usage: OpenAI.CompletionUsage[] = [];
    for (let i = 0; i < 4; i++) usage.push((await client.chat.completions.create({model: 'deepseek-r1', messages, max_tokens: 2})).usage!);
    const cached = usage.map((u) => u.prompt_tokens_details!.cached_tokens!);
    // A worker that has seen the prompt serves all its full blocks (the default 16 tokens each) from
    // cache; at least one prompt token is always computed. One that has not serves none.
    const prompt = usage[0]!.prompt_tokens;
    const fullBlocks = Math.min(Math.floor(prompt / 16) * 16, prompt - 1);
    expect(prompt).toBeGreaterThan(200);
    expect(cached[0]).toBe(0);
    expect(cached.every((c) => c === 0 || c === fullBlocks)).toBe(true);
    expect(Math.max(...cached)).toBe(fullBlocks);
  });

  it('serves completions and cuts at a stop string, without including it', async () => {
    const r = await client.completions.create({model: 'deepseek-r1', prompt: 'The system', max_tokens: 200, stop: ['.']});
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.text).not.toContain('.');
    expect(r.usage!.completion_tokens).toBeLessThan(200);
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const r = await client.completions.create({model: 'deepseek-r1', prompt: 'Count', max_tokens: 3});
    expect(r.choices[0]!.finish_reason).toBe('length');
    expect(r.usage!.completion_tokens).toBe(3);
  });

  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['deepseek-r1']);
  });

  it('answers an unknown model with 404 model_not_found', async () => {
    const e = await client.chat.completions.create({model: 'gpt-4o', messages: [{role: 'user', content: 'x'}]}).catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect(e.code).toBe('model_not_found');
  });

  it('answers a bad body with 400 naming the field', async () => {
    const e = await client.chat.completions.create({model: 'deepseek-r1', messages: [], max_tokens: 5}).catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.param).toBe('messages');
    const t = await client.chat.completions.create({model: 'deepseek-r1', messages: [{role: 'user', content: 'x'}], temperature: 7}).catch((x) => x);
    expect(t).toBeInstanceOf(OpenAI.BadRequestError);
    expect(t.param).toBe('temperature');
    const raw = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {method: 'POST', headers: {authorization: 'Bearer sk-test', 'content-type': 'application/json'}, body: '{not json'});
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as any).error.type).toBe('invalid_request_error');
  });

  it('rejects a prompt longer than the context with 400', async () => {
    const e = await client.completions.create({model: 'deepseek-r1', prompt: Array.from({length: 170_000}, () => 1000), max_tokens: 1}).catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.message).toContain("maximum context length is 163840 tokens");
  });

  it('refuses a missing or wrong API key with 401', async () => {
    const bad = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-wrong', maxRetries: 0});
    const e = await bad.models.list().catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('keeps serving from the other workers when one is killed, and drops it from routing within 2 s', async () => {
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env: env()})).stdout);
    const agg0 = ps[0].processes.find((p: {id: string}) => p.id === 'agg-0');
    process.kill(agg0.pid, 'SIGKILL');
    const killedAt = Date.now();
    await until(async () => {
      const h = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {workers: {id: string}[]};
      return !h.workers.some((w: {id: string}) => w.id === 'agg-0');
    }, 5000, 'agg-0 to leave /health');
    expect(Date.now() - killedAt).toBeLessThan(2000);
    for (let i = 0; i < 6; i++) {
      const r = await client.chat.completions.create({model: 'deepseek-r1', messages: [{role: 'user', content: `after ${i}`}], max_tokens: 3});
      expect(r.choices[0]!.finish_reason).toBe('length');
    }
    // The supervisor restarts it and it rejoins.
    await until(async () => {
      const h = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {workers: {id: string}[]};
      return h.workers.some((w: {id: string}) => w.id === 'agg-0');
    }, 20_000, 'agg-0 to come back');
    expect(pidAlive(agg0.pid)).toBe(false);
  });

  it('stops cleanly on SIGTERM: every process exits by itself within the grace period', async () => {
    // Runs last (vitest keeps file order): stop the deployment and read how each process ended.
    up.child.kill('SIGTERM');
    const r = await up.child;
    expect(r.exitCode).toBe(0);
    const out = up.output();
    for (const id of ['frontend', 'agg-0', 'agg-1', 'agg-2']) expect(out).toContain(`${id}@local stopped: exit code 0`);
    expect(out).not.toMatch(/stopped: killed by/);
  });
});
