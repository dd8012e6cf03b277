/**
 * The TensorRT-LLM pieces against the stand-in `trtllm-serve` (test/fixtures/engines/bin on PATH):
 * the launch line and its LLM API options YAML start it, EngineProcess waits for it and stops it,
 * a worker request goes in as token ids and comes back as token ids (TrtllmClient), a repeat hits
 * the prefix cache, the context-only / generation-only hand-off runs across two servers (and the
 * decode side prefills itself without one), a cancelled request is aborted in the engine, errors
 * come back in TensorRT-LLM's words, the router's stats come from its Prometheus page, and its KV
 * events reach our ZMQ subscriber with the router's own content hashes. An option click does not
 * know stops the start in click's words.
 */
import {join} from 'node:path';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';

import {type EngineLaunch, engineLaunch, type EngineWorkerSpec} from '../src/engines/launch.js';
import {DynamoBlockHasher} from '../src/kv/dynamo-hash.js';
import type {KvEvent} from '../src/kv/events.js';
import {EngineEventSubscriber} from '../src/kv/zmq/zmq-subscriber.js';
import {connectAddress} from '../src/worker/engine-kv-relay.js';
import {EngineProcess} from '../src/worker/engine-process.js';
import {engineStats} from '../src/worker/engine-stats.js';
import {TrtllmClient} from '../src/worker/trtllm-client.js';
import {freePort, freePortRange, tempDir, until} from './helpers/processes.js';
import {abortMidStream} from './helpers/engine-streams.js';

const BIN = new URL('./fixtures/engines/bin', import.meta.url).pathname;
const running: EngineProcess[] = [];
beforeAll(() => {
  process.env.PATH = `${BIN}:${process.env.PATH}`;
});
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop(3_000);
});

async function start(over: Partial<EngineWorkerSpec> = {}, edit: (l: EngineLaunch) => EngineLaunch = (l) => l) {
  const port = await freePort();
  const dir = tempDir();
  const spec: EngineWorkerSpec = {
    engine: 'trtllm', role: 'agg', model: 'Qwen/Qwen3-0.6B', servedModelName: 'qwen3', host: '127.0.0.1', port, advertiseHost: '127.0.0.1', gpus: [0],
    tensorParallelSize: 1, dataParallelSize: 1, expertParallel: false, blockSize: 16, gpuMemoryFraction: 0.9, prefixCaching: true,
    // kvEventsPort and the one after it: the PUB endpoint and the replay ROUTER.
    kvEventsPort: await freePortRange(2), transferPort: await freePort(), configDir: dir, extraArgs: [], ...over,
  };
  const launch = edit(engineLaunch(spec));
  const lines: string[] = [];
  const e = new EngineProcess({
    name: 'trtllm', launch, address: '127.0.0.1', port, logFile: join(dir, 'trtllm.log'), log: (l) => lines.push(l),
    restart: {maxRestarts: 0, backoffMs: 100, backoffMaxMs: 100, stableMs: 1000}, onUp() {}, onDown() {}, onGiveUp() {},
  });
  running.push(e);
  return {e, url: `http://127.0.0.1:${port}`, lines, spec, launch};
}

const prompt = Array.from({length: 40}, (_, i) => 100 + i);

async function read(client: TrtllmClient, req: Parameters<TrtllmClient['generate']>[0], handoff?: Record<string, unknown>) {
  const chunks = [];
  for await (const c of client.generate(req, {handoff})) chunks.push(c);
  return chunks;
}

describe('TensorRT-LLM, through the stand-in trtllm-serve', () => {
  it('a worker request goes in as token ids and streams back as token ids; a repeat hits the prefix cache; stats from /prometheus/metrics', async () => {
    const {e, url, launch} = await start();
    await e.start();
    const trt = new TrtllmClient(url, 'qwen3');
    const req = {requestId: 'r1', tokenIds: prompt, maxTokens: 8, ignoreEos: true, seed: 1};
    const first = await read(trt, req);
    expect(first.flatMap((c) => c.tokenIds)).toHaveLength(8);
    expect(first.filter((c) => c.finishReason).map((c) => c.finishReason)).toEqual(['length']);
    expect(first.at(-1)?.cachedTokens).toBe(0);
    const again = await read(trt, req);
    expect(again.flatMap((c) => c.tokenIds)).toEqual(first.flatMap((c) => c.tokenIds)); // same seed
    expect(again.at(-1)?.cachedTokens).toBe(32); // two full blocks of 16 were cached by the first
    expect(engineStats('trtllm', await (await fetch(`${url}${launch.metricsPath}`)).text())).toEqual({running: 0, waiting: 0, kvUsage: expect.any(Number)});
  });

  it('context only, then generation only with the context\'s params verbatim; without them the decode side prefills itself', async () => {
    const p = await start({role: 'prefill'});
    const d = await start({role: 'decode'});
    await Promise.all([p.e.start(), d.e.start()]);
    const req = {requestId: 'r2', tokenIds: prompt, maxTokens: 6, ignoreEos: true, seed: 2};
    const pre = await new TrtllmClient(p.url, 'qwen3').prefill(req);
    expect(pre.chunk).toMatchObject({tokenIds: [expect.any(Number)], finishReason: 'length'});
    expect(pre.handoff).toMatchObject({request_type: 'context_only', first_gen_tokens: pre.chunk.tokenIds, ctx_request_id: expect.any(Number), encoded_opaque_state: expect.any(String)});
    const decode = new TrtllmClient(d.url, 'qwen3');
    const out = await read(decode, req, pre.handoff);
    const tokens = out.flatMap((c) => c.tokenIds);
    expect(tokens).toHaveLength(6);
    expect(tokens[0]).toBe(pre.chunk.tokenIds[0]); // generation starts from the context's first token
    expect(out.at(-1)?.cachedTokens).toBe(32); // the prompt's full blocks came from the context server
    // No hand-off (the context phase ended on EOS, or kept nothing): an ordinary request, prefilled here.
    const own = await read(decode, {...req, tokenIds: prompt.map((t) => t + 1000)});
    expect(own.flatMap((c) => c.tokenIds)).toHaveLength(6);
    expect(own.at(-1)?.cachedTokens).toBe(0);
  });

  it('a cancelled request is aborted in the engine; errors come back in TensorRT-LLM\'s words', async () => {
    const {e, url, launch} = await start();
    await e.start();
    const trt = new TrtllmClient(url, 'qwen3');
    const abort = new AbortController();
    const stream = trt.generate({requestId: 'r3', tokenIds: prompt, maxTokens: 5000, ignoreEos: true}, {signal: abort.signal});
    // Chunks already read may still come; then the stream ends with the abort, long before 5000 tokens.
    const {ended, got} = await abortMidStream(stream, abort);
    await expect(ended).rejects.toThrow(/abort/i);
    expect(got()).toBeLessThan(5000);
    // The gauges are filled once a request has finished: run one to the end, then wait for the aborted one to go.
    await read(trt, {requestId: 'r4', tokenIds: prompt, maxTokens: 1});
    await until(async () => engineStats('trtllm', await (await fetch(`${url}${launch.metricsPath}`)).text()).running === 0, 5_000, 'the engine to drop the request');
    // Its ErrorResponse (request.prompt[0] of an empty prompt), and a request its pydantic models refuse.
    await expect(trt.generate({requestId: 'r5', tokenIds: [], maxTokens: 1}).next()).rejects.toThrow('TensorRT-LLM answered 400: list index out of range');
    await expect(trt.generate({requestId: 'r6', tokenIds: prompt, maxTokens: 1}, {handoff: {do_remote_prefill: true}}).next()).rejects.toThrow(
      /^TensorRT-LLM answered 400: 1 validation error:[\s\S]*extra_forbidden[\s\S]*do_remote_prefill/,
    );
  });

  it('refuses an option click does not know, in click\'s own words, before anything serves', async () => {
    const {e} = await start({extraArgs: ['--frobnicate', '1']});
    await expect(e.start()).rejects.toThrow(/trtllm did not become ready: exited with code 2\n[\s\S]*Error: No such option: --frobnicate/);
  });

  it('KV events reach our ZMQ subscriber with the router\'s content hashes; the engine\'s block ids stay opaque', async () => {
    const {e, launch, url} = await start();
    await e.start();
    const received: KvEvent[] = [];
    const warnings: string[] = [];
    const sub = new EngineEventSubscriber({
      endpoint: connectAddress(launch.kvEvents.endpoints[0]!, '127.0.0.1'),
      replayEndpoint: connectAddress(launch.kvEvents.replayEndpoints[0]!, '127.0.0.1'),
      blockSize: 16,
      workerId: 'agg-0',
      onEvents: (events) => received.push(...events),
      warn: (m) => warnings.push(m),
    });
    try {
      await until(async () => sub.status.connected, 5_000, 'the subscriber to connect');
      const hasher = await DynamoBlockHasher.create(16);
      const want = Array.from(hasher.hashAll(prompt).local);
      const stored = () => received.flatMap((k) => (k.data.type === 'stored' ? k.data.blocks : []));
      // ZMQ's slow joiner: each request stores a new block of generated tokens, so a later batch
      // arrives and the subscriber replays what it missed from seq 0.
      const trt = new TrtllmClient(url, 'qwen3');
      await until(async () => {
        await read(trt, {requestId: 'kv', tokenIds: prompt, maxTokens: 16, ignoreEos: true});
        return want.every((h) => stored().some((b) => b.tokensHash === h));
      }, 10_000, 'KV events for the prompt\'s blocks');
      const prefix = stored().filter((b) => want.includes(b.tokensHash));
      expect(prefix.map((b) => b.tokensHash)).toEqual(want);
      for (const b of prefix) expect(b.blockHash).not.toBe(b.tokensHash); // TensorRT-LLM's own ids, not Dynamo's hashes
      expect(sub.status.stats).toMatchObject({malformed: 0, lost: 0, dropped: {block_size_mismatch: 0, token_count_mismatch: 0, duplicate_hash: 0, not_device_tier: 0}});
      expect(warnings).toEqual([]);
    } finally {
      await sub.close();
    }
  });
});
