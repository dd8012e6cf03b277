/**
 * The vLLM pieces against the stand-in `vllm serve` (test/fixtures/engines/bin/vllm on PATH): the launch
 * line starts it, EngineProcess waits for it and stops it, a worker request goes in as token ids
 * and comes back as token ids (VllmClient), a cancelled one is aborted in the engine, the NixlConnector hand-off runs prefill then decode, and the
 * router's stats come from its /metrics. An argument vLLM would reject stops the start in vLLM's
 * own words.
 */
import {join} from 'node:path';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {type EngineLaunch, engineLaunch, type EngineWorkerSpec} from '../src/engines/launch.js';
import {DynamoBlockHasher} from '../src/kv/dynamo-hash.js';
import {EngineKvRelay} from '../src/worker/engine-kv-relay.js';
import {EngineProcess} from '../src/worker/engine-process.js';
import {engineStats} from '../src/worker/engine-stats.js';
import {VllmClient} from '../src/worker/vllm-client.js';
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

async function start(over: Partial<EngineWorkerSpec> = {}, env: Record<string, string> = {}) {
  const port = await freePort();
  const dir = tempDir();
  const spec: EngineWorkerSpec = {
    engine: 'vllm', role: 'agg', model: 'Qwen/Qwen3-0.6B', servedModelName: 'qwen3', host: '127.0.0.1', port, advertiseHost: '127.0.0.1', gpus: [0],
    tensorParallelSize: 1, dataParallelSize: 1, expertParallel: false, blockSize: 16, gpuMemoryFraction: 0.9, prefixCaching: true,
    // kvEventsPort and the one after it: the PUB endpoint and the replay ROUTER.
    kvEventsPort: await freePortRange(2), transferPort: await freePort(), configDir: dir, extraArgs: [], ...over,
  };
  const lines: string[] = [];
  const e = new EngineProcess({
    name: 'vllm', launch: withEnv(engineLaunch(spec), env), address: '127.0.0.1', port, logFile: join(dir, 'vllm.log'), log: (l) => lines.push(l),
    restart: {maxRestarts: 0, backoffMs: 100, backoffMaxMs: 100, stableMs: 1000}, onUp() {}, onDown() {}, onGiveUp() {},
  });
  running.push(e);
  return {e, url: `http://127.0.0.1:${port}`, lines, spec, launch: engineLaunch(spec)};
}

const withEnv = (l: EngineLaunch, env: Record<string, string>): EngineLaunch => ({...l, env: {...l.env, ...env}});

const prompt = Array.from({length: 40}, (_, i) => 100 + i);

describe('vLLM, through the stand-in vllm serve', () => {
  it('a worker request goes in as token ids and streams back as token ids; a repeat hits the prefix cache; stats from /metrics', async () => {
    const {e, url} = await start();
    await e.start();
    const vllm = new VllmClient(url, 'qwen3');
    const req = {requestId: 'r1', tokenIds: prompt, maxTokens: 8, ignoreEos: true, seed: 1};
    const read = async () => {
      const chunks = [];
      for await (const c of vllm.generate(req)) chunks.push(c);
      return chunks;
    };
    const first = await read();
    expect(first.flatMap((c) => c.tokenIds)).toHaveLength(8);
    expect(first.filter((c) => c.finishReason).map((c) => c.finishReason)).toEqual(['length']);
    const again = await read();
    expect(again.at(-1)?.cachedTokens).toBe(32); // two full blocks of 16 were cached by the first
    expect(engineStats('vllm', await (await fetch(`${url}/metrics`)).text())).toEqual({running: 0, waiting: 0, kvUsage: expect.any(Number), kvBlocksTotal: 4096});
  });

  it('prefill then decode: the prefill keeps the blocks and hands its params on, the decode takes them verbatim', async () => {
    const p = await start({role: 'prefill'});
    const d = await start({role: 'decode'});
    await Promise.all([p.e.start(), d.e.start()]);
    const req = {requestId: 'r2', tokenIds: prompt, maxTokens: 6, ignoreEos: true, seed: 2};
    const pre = await new VllmClient(p.url, 'qwen3').prefill(req);
    expect(pre.chunk).toMatchObject({tokenIds: [expect.any(Number)], finishReason: 'length'});
    expect(pre.handoff).toMatchObject({do_remote_prefill: true, remote_block_ids: [0, 1], remote_host: '127.0.0.1'});
    const out = [];
    for await (const c of new VllmClient(d.url, 'qwen3').generate(req, {handoff: pre.handoff})) out.push(c);
    expect(out.flatMap((c) => c.tokenIds)).toHaveLength(6);
    expect(out.at(-1)?.cachedTokens).toBe(32);
  });

  it('a cancelled request is aborted in the engine; an error comes back in vLLM\'s words', async () => {
    const {e, url} = await start();
    await e.start();
    const vllm = new VllmClient(url, 'qwen3');
    const abort = new AbortController();
    const stream = vllm.generate({requestId: 'r3', tokenIds: prompt, maxTokens: 5000, ignoreEos: true}, {signal: abort.signal});
    // Chunks already read may still come; then the stream ends with the abort, long before 5000 tokens.
    const {ended, got} = await abortMidStream(stream, abort);
    await expect(ended).rejects.toThrow(/abort/i);
    expect(got()).toBeLessThan(5000);
    await until(async () => engineStats('vllm', await (await fetch(`${url}/metrics`)).text()).running === 0, 5_000, 'the engine to drop the request');
    await expect(new VllmClient(url, 'nope').generate({requestId: 'r4', tokenIds: prompt, maxTokens: 1}).next()).rejects.toThrow('vLLM answered 404: The model `nope` does not exist.');
  });

  it('refuses an argument vLLM does not know, in vLLM\'s own words, before anything serves', async () => {
    const {e} = await start({extraArgs: ['--enable-magic']});
    await expect(e.start()).rejects.toThrow(/vllm did not become ready: exited with code 2\n[\s\S]*vllm serve: error: unrecognized arguments: --enable-magic/);
  });

  for (const encoding of ['current', 'legacy']) {
    it(`KV events (${encoding} encoding) reach the worker's relay over ZMQ, carrying the router's content hashes of the prompt's blocks`, async () => {
      const {e, launch} = await start({}, {FAKE_VLLM_KV_EVENTS: encoding});
      await e.start();
      const warnings: string[] = [];
      const relay = new EngineKvRelay({...launch.kvEvents, address: '127.0.0.1', blockSize: 16, workerId: 'agg-0', warn: (m) => warnings.push(m)});
      relay.start();
      try {
        await until(async () => relay.connected, 5_000, 'the relay to connect');
        // ZMQ's slow joiner: send until the first batch arrives.
        const vllm = new VllmClient(`http://127.0.0.1:${launch.port}`, 'qwen3');
        await until(async () => {
          for await (const _ of vllm.generate({requestId: 'kv', tokenIds: prompt, maxTokens: 1, ignoreEos: true})) void _;
          return relay.mirror.size > 0;
        }, 10_000, 'KV events from the stand-in');
        const hasher = await DynamoBlockHasher.create(16);
        const want = Array.from(hasher.hashAll(prompt).local);
        const snap = relay.mirror.snapshot().flatMap((d) => (d.type === 'stored' ? d.blocks.map((b) => b.tokensHash) : []));
        expect(snap).toEqual(expect.arrayContaining(want));
        expect(relay.stats[0]).toMatchObject({malformed: 0, lost: 0});
        expect(warnings).toEqual([]);
      } finally {
        await relay.close();
      }
    });
  }
});
