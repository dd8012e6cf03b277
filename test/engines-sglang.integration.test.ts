/**
 * The SGLang pieces against the stand-in `python3 -m sglang.launch_server`
 * (test/fixtures/engines/bin/python3 on PATH): the launch line starts it, EngineProcess waits for
 * it and stops it, a worker request goes in as token ids and streams back as token ids
 * (SglangClient), a repeat hits the prefix cache, a cancelled one is aborted in the engine, PD runs
 * prefill and decode at once through the bootstrap room, the router's stats come from its
 * /metrics, and its KV events reach our subscriber with the router's content hashes. An argument
 * SGLang would reject stops the start in SGLang's own words.
 */
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {Decoder} from '@msgpack/msgpack';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import * as zmq from 'zeromq';
import {type EngineLaunch, type EngineWorkerSpec, engineLaunch} from '../src/engines/launch.js';
import {DynamoBlockHasher} from '../src/kv/dynamo-hash.js';
import type {KvEvent} from '../src/kv/events.js';
import {EngineEventSubscriber} from '../src/kv/zmq/zmq-subscriber.js';
import {connectAddress} from '../src/worker/engine-kv-relay.js';
import {EngineProcess} from '../src/worker/engine-process.js';
import {engineStats} from '../src/worker/engine-stats.js';
import {SglangClient} from '../src/worker/sglang-client.js';
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

const withEnv = (l: EngineLaunch, env: Record<string, string>): EngineLaunch => ({...l, env: {...l.env, ...env}});

async function start(over: Partial<EngineWorkerSpec> = {}, env: Record<string, string> = {}, edit: (l: EngineLaunch) => EngineLaunch = (l) => l) {
  const port = await freePort();
  const dir = tempDir();
  const spec: EngineWorkerSpec = {
    engine: 'sglang', role: 'agg', model: 'Qwen/Qwen3-0.6B', servedModelName: 'qwen3', host: '127.0.0.1', port, advertiseHost: '127.0.0.1', gpus: [0],
    tensorParallelSize: 1, dataParallelSize: 1, expertParallel: false, blockSize: 16, gpuMemoryFraction: 0.9, prefixCaching: true,
    // kvEventsPort and the one after it: the PUB endpoint and the replay ROUTER.
    kvEventsPort: await freePortRange(2), transferPort: await freePort(), configDir: dir, extraArgs: [], ...over,
  };
  const launch = edit(withEnv(engineLaunch(spec), env));
  const lines: string[] = [];
  const e = new EngineProcess({
    name: 'sglang', launch, address: '127.0.0.1', port, logFile: join(dir, 'sglang.log'), log: (l) => lines.push(l),
    restart: {maxRestarts: 0, backoffMs: 100, backoffMaxMs: 100, stableMs: 1000}, onUp() {}, onDown() {}, onGiveUp() {},
  });
  running.push(e);
  const errors: Error[] = [];
  const client = new SglangClient(`http://127.0.0.1:${port}`, 'qwen3', {bootstrapHost: '127.0.0.1', bootstrapPort: spec.transferPort, onBackgroundError: (err) => errors.push(err)});
  return {e, url: `http://127.0.0.1:${port}`, lines, spec, launch, client, errors};
}

const prompt = Array.from({length: 40}, (_, i) => 100 + i);
const read = async (gen: AsyncGenerator<{tokenIds: number[]; finishReason?: string; cachedTokens?: number}>) => {
  const chunks = [];
  for await (const c of gen) chunks.push(c);
  return chunks;
};
const stats = async (url: string) => engineStats('sglang', await (await fetch(`${url}/metrics`)).text());

describe('SGLang, through the stand-in launch_server', () => {
  it('a worker request goes in as token ids and streams back as token ids; a repeat hits the prefix cache; stats from /metrics', async () => {
    const {e, url, client} = await start();
    await e.start();
    const req = {requestId: 'r1', tokenIds: prompt, maxTokens: 8, ignoreEos: true, seed: 1};
    const first = await read(client.generate(req));
    expect(first.flatMap((c) => c.tokenIds)).toHaveLength(8);
    expect(first.length).toBeGreaterThan(1); // streamed, and each event's new tokens read once
    expect(first.filter((c) => c.finishReason).map((c) => c.finishReason)).toEqual(['length']);
    const again = await read(client.generate({...req, requestId: 'r1b'}));
    expect(again.flatMap((c) => c.tokenIds)).toEqual(first.flatMap((c) => c.tokenIds)); // same sampling_seed, same tokens
    expect(again.at(-1)?.cachedTokens).toBe(32); // two full pages of 16 were cached by the first
    expect(await stats(url)).toEqual({running: 0, waiting: 0, kvUsage: expect.any(Number)});
    const page = await (await fetch(`${url}/metrics`)).text();
    expect(page).toMatch(/^sglang:prompt_tokens_total\{model_name="qwen3"\} \d+/m);
    expect(page).toMatch(/^sglang:generation_tokens_total\{model_name="qwen3"\} 16$/m);
    expect(page).toMatch(/^sglang:cache_hit_rate\{model_name="qwen3"\} 0\.\d+/m);
  });

  it('reads incremental output ids too (--stream-output), and /metrics is 404 without --enable-metrics', async () => {
    const {e, url, client} = await start({extraArgs: ['--stream-output']});
    const noMetrics = await start({}, {}, (l) => ({...l, args: l.args.filter((a) => a !== '--enable-metrics')}));
    await Promise.all([e.start(), noMetrics.e.start()]);
    const chunks = await read(client.generate({requestId: 'r2', tokenIds: prompt, maxTokens: 12, ignoreEos: true}));
    expect(chunks.flatMap((c) => c.tokenIds)).toHaveLength(12);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect((await fetch(`${noMetrics.url}/metrics`)).status).toBe(404);
  });

  it('PD: prefill returns its hand-off at once, decode runs beside it and takes the prompt\'s pages from it', async () => {
    const p = await start({role: 'prefill'});
    const d = await start({role: 'decode'});
    await Promise.all([p.e.start(), d.e.start()]);
    expect(d.launch.kvEvents.endpoints).toEqual([]); // decode workers publish no KV events
    const req = {requestId: 'r3', tokenIds: prompt, maxTokens: 6, ignoreEos: true, seed: 3};
    const pre = await p.client.prefill(req);
    // The prefill server holds its request until the decode server connects: it is still running.
    expect(p.client.prefillsInFlight).toBe(1);
    expect(pre.handoff).toEqual({bootstrap_host: '127.0.0.1', bootstrap_port: p.spec.transferPort, bootstrap_room: expect.stringMatching(/^\d+$/)});
    const out = await read(d.client.generate(req, {handoff: pre.handoff}));
    expect(out.flatMap((c) => c.tokenIds)).toHaveLength(6);
    expect(out.at(-1)).toMatchObject({finishReason: 'length', cachedTokens: 32});
    await p.client.settled();
    expect(p.errors).toEqual([]);
    // The prefill computed the prompt (and one token); the decode counted it as pulled, not computed.
    expect((await stats(p.url)).running).toBe(0);
    const another = await p.client.prefill({...req, requestId: 'r3b'});
    expect(another.handoff?.bootstrap_room).not.toBe(pre.handoff?.bootstrap_room); // a fresh room per request
    await read(d.client.generate({...req, requestId: 'r3b'}, {handoff: another.handoff}));
    await p.client.settled();
    expect(p.errors).toEqual([]);
  });

  it('PD failures in SGLang\'s words: a decode whose prefill never comes, a prefill whose decode never comes', async () => {
    const p = await start({role: 'prefill'}, {SGLANG_DISAGGREGATION_BOOTSTRAP_TIMEOUT: '1'});
    const d = await start({role: 'decode'}, {SGLANG_DISAGGREGATION_WAITING_TIMEOUT: '1'});
    await Promise.all([p.e.start(), d.e.start()]);
    const req = {requestId: 'r4', tokenIds: prompt, maxTokens: 4, ignoreEos: true};
    const orphan = {bootstrap_host: '127.0.0.1', bootstrap_port: p.spec.transferPort, bootstrap_room: '9223372036854775001'};
    await expect(read(d.client.generate(req, {handoff: orphan}))).rejects.toThrow(
      /^SGLang answered 500: Decode transfer failed for request rank=0 decode_req\.req\.rid='r4' decode_req\.req\.bootstrap_room=9223372036854775001 with exception KVTransferError\(bootstrap_room=9223372036854775001\): Request 9223372036854775001 timed out after \d+\.\ds in KVPoll\.WaitingForInput$/,
    );
    const unreachable = {...orphan, bootstrap_port: await freePort()};
    await expect(read(d.client.generate(req, {handoff: unreachable}))).rejects.toThrow(/^SGLang answered 500: Decode handshake failed .* Could not fetch prefill parallel info from bootstrap_addr: 127\.0\.0\.1:\d+$/);
    const pre = await p.client.prefill({...req, requestId: 'r5'});
    await p.client.settled();
    expect(p.errors.map((e) => e.message)).toEqual([
      `SGLang answered 500: Prefill bootstrap failed for request rank=0 req.rid='r5' req.bootstrap_room=${pre.handoff?.bootstrap_room} with exception KVTransferError(bootstrap_room=${pre.handoff?.bootstrap_room}): Request ${pre.handoff?.bootstrap_room} timed out after 1.0s in KVPoll.Bootstrapping`,
    ]);
    // A cancelled prefill is aborted in the engine and is no background failure.
    const cancel = new AbortController();
    await p.client.prefill({...req, requestId: 'r5c'}, cancel.signal);
    cancel.abort();
    await p.client.settled();
    expect(p.errors).toHaveLength(1);
    // A request without the bootstrap fields never bootstraps on a prefill server either.
    const bare = await fetch(`${p.url}/generate`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({input_ids: prompt, sampling_params: {max_new_tokens: 1}})});
    expect(bare.status).toBe(500);
    expect(((await bare.json()) as {message: string}).message).toMatch(/^Prefill bootstrap failed .* req\.bootstrap_room=None .* in KVPoll\.Bootstrapping$/);
  });

  it('a cancelled request is aborted in the engine; an error comes back in SGLang\'s words', async () => {
    const {e, url, client} = await start({maxModelLen: 32});
    await e.start();
    const abort = new AbortController();
    const short = prompt.slice(0, 20);
    const stream = client.generate({requestId: 'r6', tokenIds: short, maxTokens: 5000, ignoreEos: true}, {signal: abort.signal});
    // Chunks already read may still come; then the stream ends with the abort, long before 5000 tokens.
    const {ended, got} = await abortMidStream(stream, abort);
    await expect(ended).rejects.toThrow(/abort/i);
    expect(got()).toBeLessThan(5000);
    await until(async () => (await stats(url)).running === 0, 5_000, 'the engine to drop the request');
    await expect(read(client.generate({requestId: 'r7', tokenIds: prompt, maxTokens: 1}))).rejects.toThrow("SGLang answered 400: The input (40 tokens) is longer than the model's context length (32 tokens).");
    await expect(read(client.generate({requestId: 'r8', tokenIds: short, maxTokens: 1}, {handoff: {bootstrap_host: 'h', bootstrap_port: 1, bootstrap_room: 'x'}}))).rejects.toThrow(/bootstrap_room/);
  });

  it('refuses an argument SGLang does not know, in SGLang\'s own words, before anything serves', async () => {
    const {e} = await start({extraArgs: ['--enable-magic']});
    await expect(e.start()).rejects.toThrow(/sglang did not become ready: exited with code 2\n[\s\S]*launch_server\.py: error: unrecognized arguments: --enable-magic/);
  });

  it('KV events: SGLang\'s batches over ZMQ (signed int64 page hashes), read by our subscriber with the router\'s content hashes', async () => {
    const {e, launch, client} = await start();
    await e.start();
    const endpoint = connectAddress(launch.kvEvents.endpoints[0]!, '127.0.0.1');
    const received: KvEvent[] = [];
    const warnings: string[] = [];
    const sub = new EngineEventSubscriber({endpoint, replayEndpoint: connectAddress(launch.kvEvents.replayEndpoints[0]!, '127.0.0.1'), blockSize: 16, onEvents: (ev) => received.push(...ev), warn: (m) => warnings.push(m)});
    const raw = new zmq.Subscriber();
    raw.connect(endpoint);
    raw.subscribe();
    const batches: unknown[] = [];
    void (async () => {
      for await (const [, , payload] of raw) batches.push(new Decoder({useBigInt64: true}).decode(payload!));
    })().catch(() => {});
    try {
      await until(async () => sub.status.connected, 5_000, 'the subscriber to connect');
      // ZMQ's slow joiner: send until the first batch arrives on both sockets.
      let n = 0;
      await until(async () => {
        await read(client.generate({requestId: `kv${n++}`, tokenIds: prompt, maxTokens: 1, ignoreEos: true}));
        return received.length > 0 && batches.length > 0;
      }, 10_000, 'KV events from the stand-in');
      const want = Array.from((await DynamoBlockHasher.create(16)).hashAll(prompt).local);
      const tokensHashes = received.flatMap((ev) => (ev.data.type === 'stored' ? ev.data.blocks.map((b) => b.tokensHash) : []));
      expect(tokensHashes).toEqual(expect.arrayContaining(want));
      expect(sub.status.stats).toMatchObject({malformed: 0, lost: 0, dropped: {block_size_mismatch: 0, token_count_mismatch: 0}});
      expect(warnings).toEqual([]);
      // On the wire: [ts, events, attn_dp_rank]; one BlockStored per page, hashes as SGLang's radix cache makes them.
      const page = (parent: Buffer | undefined, from: number) => {
        const bytes = Buffer.alloc(64);
        for (let i = 0; i < 16; i++) bytes.writeUInt32LE(prompt[from + i]!, i * 4);
        return createHash('sha256').update(parent ? Buffer.concat([parent, bytes]) : bytes).digest();
      };
      const p0 = page(undefined, 0);
      const p1 = page(p0, 16);
      const int64 = (d: Buffer) => d.readBigInt64BE(0);
      expect(int64(p1) < 0n).toBe(true); // this prompt's second page has a negative id: the signed form is on the wire
      const events = (batches as [number, unknown[][], number][]).flatMap(([ts, evs, rank]) => (typeof ts === 'number' && rank === 0 ? evs : []));
      const big = (v: unknown) => (v === null ? null : BigInt(v as number | bigint));
      const stored = events.filter((ev) => ev[0] === 'BlockStored').map((ev) => ({hash: big((ev[1] as unknown[])[0]), parent: big(ev[2]), hashes: (ev[1] as unknown[]).length, rest: ev.slice(3)}));
      expect(stored).toContainEqual({hash: int64(p0), parent: null, hashes: 1, rest: [prompt.slice(0, 16), 16, null, 'GPU']});
      expect(stored).toContainEqual({hash: int64(p1), parent: int64(p0), hashes: 1, rest: [prompt.slice(16, 32), 16, null, 'GPU']});
    } finally {
      raw.close();
      await sub.close();
    }
  });
});
