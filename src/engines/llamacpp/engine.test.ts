// The llama.cpp engine on a generated model: continuous batching gives each request what it gets
// alone, a shared prefix is served from cache, KV events follow the cache, cancellation frees the
// slot, and a request that cannot fit is refused in words.
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {tempDir} from '../../../test/helpers/processes.js';
import {DynamoBlockHasher} from '../../kv/dynamo-hash.js';
import type {KvEventData} from '../../kv/events.js';
import type {TokenChunk} from '../token-io.js';
import {ContextLengthError, LlamaEngine, type LlamaRequest} from './engine.js';
import {requireLlama} from './native.js';
import {writeTestModel} from './test-model.js';

const path = join(tempDir(), 'model.gguf');
const events: KvEventData[] = [];
let engine: LlamaEngine;

beforeAll(async () => {
  await writeTestModel(path, {family: 'llama3_1', seed: 3});
  engine = LlamaEngine.open(requireLlama(), path, {sequences: 3, contextPerSequence: 256, batchTokens: 64, threads: 1, hasher: await DynamoBlockHasher.create(16), onKvEvent: (e) => events.push(e)});
}, 60_000);
afterAll(() => engine?.close());

const prompt = (seed: number, n: number) => Array.from({length: n}, (_, i) => 1000 + ((seed * 7919 + i * 104729) % 20000));

async function collect(req: Partial<LlamaRequest> & {tokenIds: number[]}, signal?: AbortSignal): Promise<TokenChunk[]> {
  const out: TokenChunk[] = [];
  for await (const c of engine.generate({id: 'r', maxTokens: 12, temperature: 0, ...req}, signal)) out.push(c);
  return out;
}
const ids = (chunks: TokenChunk[]) => chunks.flatMap((c) => c.tokenIds);

describe('LlamaEngine', () => {
  it('batches requests together and each gets what it gets alone (greedy); a long prompt is prefilled in chunks', async () => {
    const prompts = [prompt(1, 40), prompt(2, 150), prompt(3, 9)];
    const alone: number[][] = [];
    for (const p of prompts) alone.push(ids(await collect({tokenIds: p})));
    const together = await Promise.all(prompts.map(async (p) => ids(await collect({tokenIds: p}))));
    expect(together).toEqual(alone);
    expect(alone.every((a) => a.length === 12)).toBe(true);
  });

  it('serves a repeated prefix from the cache: cachedTokens, counters and the same output', async () => {
    const p = prompt(4, 100);
    const first = await collect({tokenIds: p});
    const before = engine.counters.prefixHitTokens;
    const second = await collect({tokenIds: p});
    expect(first[0]!.cachedTokens).toBe(0);
    expect(second[0]!.cachedTokens).toBe(99); // all but the last token, which is decoded again for its logits
    expect(engine.counters.prefixHitTokens - before).toBe(99);
    expect(ids(second)).toEqual(ids(first));
    // A conversation's next turn: the earlier prompt and reply, then more.
    const next = [...p, ...ids(first), ...prompt(5, 20)];
    const third = await collect({tokenIds: next});
    expect(third[0]!.cachedTokens).toBeGreaterThanOrEqual(100);
  });

  it('publishes the blocks its slots hold: stored as they fill, removed when no slot holds them', async () => {
    events.length = 0;
    const hasher = await DynamoBlockHasher.create(16);
    const p = prompt(6, 64);
    await collect({tokenIds: p, maxTokens: 1});
    const stored = events.flatMap((e) => (e.type === 'stored' ? e.blocks.map((b) => b.blockHash) : []));
    expect(stored.slice(0, 4)).toEqual(Array.from(hasher.hashAll(p).sequence));
    // Fill every slot with other prompts: the least recently used slot (p's) is reused.
    events.length = 0;
    for (let i = 0; i < 3; i++) await collect({tokenIds: prompt(10 + i, 40), maxTokens: 1});
    const removed = new Set(events.flatMap((e) => (e.type === 'removed' ? e.blockHashes : [])));
    expect(Array.from(hasher.hashAll(p).sequence).every((h) => removed.has(h))).toBe(true);
    expect(engine.slots.snapshot().length).toBe(engine.slots.blocksHeld);
  });

  it('stops at max_tokens or end of generation, and a cancelled request frees its slot at once', async () => {
    const out = await collect({tokenIds: prompt(7, 20), maxTokens: 5});
    expect(out.map((c) => c.finishReason ?? '')).toEqual(['', '', '', '', 'length']);
    const abort = new AbortController();
    const chunks: TokenChunk[] = [];
    for await (const c of engine.generate({id: 'c', tokenIds: prompt(8, 30), maxTokens: 200, temperature: 0}, abort.signal)) {
      chunks.push(c);
      if (chunks.length === 3) abort.abort();
    }
    expect(chunks.length).toBeLessThan(200);
    await expect.poll(() => engine.inFlight).toBe(0);
    expect(engine.slots.busySlots).toBe(0);
  });

  it('samples with temperature from the request seed: the same seed repeats, another differs', async () => {
    const p = prompt(9, 30);
    const a = ids(await collect({tokenIds: p, temperature: 1.5, seed: 11, maxTokens: 16}));
    const b = ids(await collect({tokenIds: p, temperature: 1.5, seed: 11, maxTokens: 16}));
    const c = ids(await collect({tokenIds: p, temperature: 1.5, seed: 12, maxTokens: 16}));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("continues another engine's prefill from its state and next token exactly as it would have itself, or prefills when the state is not the prompt's", async () => {
    const decoder = LlamaEngine.open(requireLlama(), path, {sequences: 2, contextPerSequence: 256, batchTokens: 64, threads: 1, hasher: await DynamoBlockHasher.create(16)});
    try {
      const p = prompt(21, 70);
      const whole = ids(await collect({tokenIds: p, maxTokens: 10}));
      const prefill = await collect({tokenIds: p, maxTokens: 1, captureState: true} as Partial<LlamaRequest> & {tokenIds: number[]});
      const last = prefill.at(-1) as TokenChunk & {state?: Buffer};
      expect(last.state!.length).toBeGreaterThan(0);
      const decoded: number[] = [];
      for await (const c of decoder.generate({id: 'd', tokenIds: p, maxTokens: 10, temperature: 0, state: last.state, stateNext: last.tokenIds[0]})) decoded.push(...c.tokenIds);
      expect(decoded).toEqual(whole);
      expect(decoder.counters.transferredTokens).toBe(70);
      // A state of another prompt is not used: the decoder prefills and still answers right.
      const other = prompt(22, 70);
      const again: number[] = [];
      for await (const c of decoder.generate({id: 'e', tokenIds: other, maxTokens: 10, temperature: 0, state: Buffer.from('not a state'), stateNext: 5})) again.push(...c.tokenIds);
      expect(again).toEqual(ids(await collect({tokenIds: other, maxTokens: 10})));
    } finally {
      await decoder.close();
    }
  });

  it('refuses a prompt that fills a sequence, saying what to change; output stops where the sequence is full', async () => {
    await expect(collect({tokenIds: prompt(1, 256), maxTokens: 10})).rejects.toThrow(ContextLengthError);
    await expect(collect({tokenIds: prompt(1, 256), maxTokens: 10})).rejects.toThrow(/the prompt has 256 tokens; a sequence of this worker holds 256 \(prompt and output\): shorten the prompt/);
    const out = await collect({tokenIds: prompt(1, 250), maxTokens: 10});
    expect(ids(out)).toHaveLength(6);
    expect(out.at(-1)!.finishReason).toBe('length');
  });
});
