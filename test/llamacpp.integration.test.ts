/**
 * `dynamo up --engine llamacpp` end to end on the built binary, with a ~17 M-parameter model this
 * project writes (test-model.ts: a real Llama 3 vocabulary and chat template, seeded weights, so
 * the text is meaningless but every token is computed by llama.cpp). The official openai client:
 * chat and completions, streaming, max_tokens, stop strings, cancellation, cached_tokens on a
 * repeated prefix; then KV-aware routing against round-robin on a shared-prefix workload.
 */
import {join} from 'node:path';
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {writeTestModel} from '../src/engines/llamacpp/test-model.js';
import {writeFileSync} from 'node:fs';
import {dynamo, startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir} from './helpers/processes.js';

requireBinary();
const dir = tempDir();
const modelPath = join(dir, 'tiny-llama.gguf');
const MODEL = modelPath; // served under the path it was given, as vLLM serves a local model
const WORDS = 'route cache block prefix worker token model serve load time'.split(' ');

async function up(name: string, routerMode: string, extraEnv: Record<string, string> = {}, shape = ['--workers', '2']) {
  const port = await freePort();
  const workersBase = await freePortRange(8);
  const proc = await startUntil(['up', '--engine', 'llamacpp', '--model', modelPath, ...shape, '--port', String(port), '--router-mode', routerMode, '--name', name], /ready in/, {
    env: {DYN_HOME: join(dir, name), DYN_WORKERS_BASE_PORT: String(workersBase), ...extraEnv},
    timeoutMs: 90_000,
  });
  const client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0});
  return {port, workersBase, client, stop: async () => {
    proc.child.kill('SIGTERM');
    await proc.child;
  }};
}

beforeAll(async () => {
  await writeTestModel(modelPath, {family: 'llama3_1', seed: 5});
}, 60_000);

describe('dynamo up --engine llamacpp', () => {
  let d: Awaited<ReturnType<typeof up>>;
  beforeAll(async () => {
    d = await up('serve', 'kv');
  }, 120_000);
  afterAll(() => d?.stop());

  it('answers chat and completions with computed tokens, and max_tokens bounds them', async () => {
    const chat = await d.client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'Say something.'}], max_tokens: 7, temperature: 0});
    expect(chat.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(chat.usage!.completion_tokens).toBe(7);
    expect(chat.choices[0]!.finish_reason).toBe('length');
    const again = await d.client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'Say something.'}], max_tokens: 7, temperature: 0});
    expect(again.choices[0]!.message.content).toBe(chat.choices[0]!.message.content); // greedy is greedy
    const completion = await d.client.completions.create({model: MODEL, prompt: 'The quick brown fox', max_tokens: 5, temperature: 0});
    expect(completion.usage!.completion_tokens).toBe(5);
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
  });

  it('streams the same text it answers at once, ending with usage', async () => {
    const body = {model: MODEL, messages: [{role: 'user' as const, content: 'Stream please.'}], max_tokens: 12, temperature: 0};
    const whole = await d.client.chat.completions.create(body);
    const stream = await d.client.chat.completions.create({...body, stream: true, stream_options: {include_usage: true}});
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      chunks++;
      usage ??= c.usage ?? undefined;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks).toBeGreaterThan(3);
    expect(usage!.completion_tokens).toBe(12);
  });

  it('stops at a stop string, leaving it out', async () => {
    const body = {model: MODEL, prompt: 'Tell me a story about blocks.', max_tokens: 24, temperature: 0};
    const full = (await d.client.completions.create(body)).choices[0]!.text;
    const stop = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 3);
    const cut = await d.client.completions.create({...body, stop: [stop]});
    expect(cut.choices[0]!.finish_reason).toBe('stop');
    expect(full.startsWith(cut.choices[0]!.text)).toBe(true);
    expect(cut.choices[0]!.text).not.toContain(stop);
    expect(cut.choices[0]!.text.length).toBeLessThan(full.length);
  });

  it('cancels a stream the client drops: the workers are idle again at once', async () => {
    const abort = new AbortController();
    const stream = await d.client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'Go on forever.'}], max_tokens: 3000, temperature: 0, stream: true}, {signal: abort.signal});
    let n = 0;
    try {
      for await (const _ of stream) if (++n === 5) abort.abort();
    } catch {
      // the client's own abort
    }
    expect(n).toBeLessThan(100);
    await expect
      .poll(async () => {
        const m = await (await fetch(`http://127.0.0.1:${d.port}/metrics`)).text();
        return /^dynamo_frontend_inflight_requests\{[^}]*\} (\d+)/m.exec(m)?.[1];
      }, {timeout: 5000})
      .toBe('0');
  });

  it('serves a repeated prefix from the worker cache: cached_tokens > 0', async () => {
    const doc = Array.from({length: 300}, (_, i) => WORDS[i % WORDS.length]).join(' ');
    const ask = (q: string) => d.client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: `${doc}\n${q}`}], max_tokens: 2, temperature: 0});
    const first = await ask('First question?');
    const second = await ask('Second question?');
    // The first shares only the chat template's header with earlier requests; the second, the document.
    expect(first.usage!.prompt_tokens_details?.cached_tokens ?? 0).toBeLessThan(20);
    expect(second.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(250);
  });
});

describe('GGUF model files', () => {
  it('dynamo models shows what the header says: architecture, context, KV bytes per token', async () => {
    const r = await dynamo(['models', modelPath, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    // 4 layers × 2 KV heads × 16 dims × K and V × 2 bytes (f16 cache) = 512 bytes per token.
    expect(JSON.parse(r.stdout)).toMatchObject({name: 'tiny-llama', format: 'gguf', layers: 4, hiddenSize: 64, kvHeads: 2, contextLength: 4096, vocabSize: 128256, tokenizerFamily: 'llama3_1', kvBytesPerToken: {fp16: 512}});
    expect((await dynamo(['models', modelPath])).stdout).toMatch(/tiny-llama\s+17M\s+4\s+64\s+4\/2 kv\s+4096\s+0\.5 KiB/);
  });

  it('dynamo debug test-model writes a model from an embedded vocabulary; a path it cannot write is refused in words', async () => {
    const path = join(dir, 'from-cli.gguf');
    const r = await dynamo(['debug', 'test-model', '--out', path, '--vocab', 'deepseek_v3', '--seed', '9']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*from-cli\.gguf: 1\d\.\d M parameters, .* MB \(deepseek_v3 vocabulary, seeded weights: meaningless text\)/);
    expect(JSON.parse((await dynamo(['models', path, '--json'])).stdout)).toMatchObject({format: 'gguf', tokenizerFamily: 'deepseek_v3'});
    const bad = await dynamo(['debug', 'test-model', '--out', join(dir, 'no/such/dir/x.gguf')]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/cannot write .*x\.gguf: ENOENT\n {2}→ pass --out a path in an existing, writable directory/);
  });

  it('refuses, in one line with the fix and before starting anything, a model that is not a GGUF file', async () => {
    const notGguf = join(dir, 'notes.gguf');
    writeFileSync(notGguf, 'not a model');
    const cases: [string, RegExp][] = [
      ['deepseek-r1', /--engine llamacpp runs a \.gguf model file, not "deepseek-r1"\n {2}→ pass --model \.\/model\.gguf/],
      [join(dir, 'missing.gguf'), /model not found: .*missing\.gguf/],
      [notGguf, /notes\.gguf is not a GGUF file \(it does not start with "GGUF"\)\n {2}→ pass a llama\.cpp model file/],
    ];
    for (const [model, message] of cases) {
      const r = await dynamo(['up', '--engine', 'llamacpp', '--model', model, '--dry-run'], {env: {DYN_HOME: join(dir, 'bad')}});
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe('KV-aware routing with llama.cpp workers', () => {
  // 3 groups on 2 workers of 2 sequences each (coprime: round-robin is not accidentally
  // prefix-affine): kv keeps each group on one worker, whose 2 slots hold its groups; round-robin
  // sends every group to both workers in turn, and 3 groups thrash 2 slots.
  const GROUPS = 3;
  const PER_GROUP = 6;
  async function cachedShare(mode: string): Promise<number> {
    const d = await up(`route-${mode}`, mode, {DYN_MOCKER_MAX_NUM_SEQS: '2'});
    try {
      const docs = Array.from({length: GROUPS}, (_, g) => `Group ${g}. ${Array.from({length: 250}, (_, i) => WORDS[(g * 7 + i * 3) % WORDS.length]).join(' ')}`);
      let cached = 0;
      let prompt = 0;
      for (let i = 0; i < PER_GROUP; i++) {
        for (let g = 0; g < GROUPS; g++) {
          const r = await d.client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: `${docs[g]}\nQuestion ${i}?`}], max_tokens: 2, temperature: 0});
          cached += r.usage!.prompt_tokens_details?.cached_tokens ?? 0;
          prompt += r.usage!.prompt_tokens;
        }
      }
      return cached / prompt;
    } finally {
      await d.stop();
    }
  }

  it('kv serves more prompt tokens from cache than round-robin', async () => {
    const rr = await cachedShare('round-robin');
    const kv = await cachedShare('kv');
    console.log(`llamacpp cached share: kv ${(kv * 100).toFixed(1)} %, round-robin ${(rr * 100).toFixed(1)} %`);
    expect(kv).toBeGreaterThan(0.6);
    expect(kv).toBeGreaterThan(rr + 0.3);
  }, 240_000);
});

describe('disaggregated serving with llama.cpp', () => {
  it("moves each prompt's KV state from the prefill worker to the decode worker, and answers token for token as aggregated serving", async () => {
    const prompts = Array.from({length: 24}, (_, i) => `Prompt ${i}: ${Array.from({length: 10 + i * 8}, (_, k) => WORDS[(i * 5 + k * 7) % WORDS.length]).join(' ')}`);
    const answers = async (d: Awaited<ReturnType<typeof up>>) => {
      const out: string[] = [];
      for (const content of prompts) {
        const r = await d.client.chat.completions.create({model: MODEL, messages: [{role: 'user', content}], max_tokens: 16, temperature: 0});
        expect(r.usage!.completion_tokens).toBe(16);
        out.push(r.choices[0]!.message.content!);
      }
      return out;
    };
    const agg = await up('agg-one', 'kv', {}, ['--workers', '1']);
    let aggregated: string[];
    try {
      aggregated = await answers(agg);
    } finally {
      await agg.stop();
    }
    // Every prompt goes to the prefill worker (no local prefill however short).
    const dis = await up('disagg', 'kv', {DYN_DISAGGREGATION_MAX_LOCAL_PREFILL_LENGTH: '0'}, ['--disagg']);
    try {
      expect(await answers(dis)).toEqual(aggregated);
      const frontend = await (await fetch(`http://127.0.0.1:${dis.port}/metrics`)).text();
      expect(frontend).toMatch(/^dynamo_frontend_disagg_prefill_total\{[^}]*path="remote"[^}]*\} 24$/m);
      // prefill-0 serves metrics on the base port + 1, decode-0 on + 3: the decode worker loaded 24 states.
      const decode = await (await fetch(`http://127.0.0.1:${dis.workersBase + 3}/metrics`)).text();
      expect(decode).toMatch(/^dynamo_component_kv_transfers_total\{result="ok"\} 24$/m);
    } finally {
      await dis.stop();
    }
  }, 240_000);
});
