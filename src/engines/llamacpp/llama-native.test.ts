// The llama.cpp addon on models this project writes: llama.cpp loads them, tokenizes exactly as the
// frontend's tokenizer does (the worker takes token ids, so they must agree), decodes several
// sequences in one batch, and a sequence's KV state moved into another context continues the same.
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {tempDir} from '../../../test/helpers/processes.js';
import {resolveModel} from '../../config/models.js';
import {loadTokenizerFiles} from '../../tokenizer/bundled.js';
import {ChatTemplate} from '../../tokenizer/chat-template.js';
import {PromptEncoder} from '../../tokenizer/encoder.js';
import {Vocab} from '../../tokenizer/vocab.js';
import {type LlamaHandle, missingCpuFeatures, requireLlama} from './native.js';
import {DEFAULT_SHAPE, type VocabFamily, writeTestModel} from './test-model.js';

const L = requireLlama(); // built by the test setup on linux x64: its absence is a failure, not a skip
const dir = tempDir();
const FAMILIES: VocabFamily[] = ['llama3_1', 'qwen3', 'deepseek_v3'];
const models = new Map<VocabFamily, string>();

beforeAll(async () => {
  for (const family of FAMILIES) {
    const path = join(dir, `${family}.gguf`);
    await writeTestModel(path, {family, seed: 7});
    models.set(family, path);
  }
}, 60_000);

const TEXTS = [
  'Hello world, this is a test.',
  '  leading spaces and\ttabs\n\nnewlines\r\n',
  'numbers 1234567 and 3.14159, 1e-9',
  'Unicode: naïve café — “quotes” 日本語のテキスト 中文 한국어 emoji 🙂👍🏽',
  "code: def f(x):\n    return x**2  # it's\n",
  "contractions: I'm, you're, they've, she'll, it'd DON'T",
  '<think>\nreasoning</think> answer',
  `${'a'.repeat(300)} ${'ab '.repeat(100)}`,
];

/** Greedy continuation of `prompt` on one sequence, `n` tokens, starting at position `from`. */
async function greedy(engine: LlamaHandle, seq: number, prompt: Int32Array, from: number, n: number): Promise<number[]> {
  const out: number[] = [];
  let batch = prompt;
  let pos = from;
  for (let i = 0; i < n; i++) {
    const want = new Int8Array(batch.length);
    want[batch.length - 1] = 1;
    const positions = Int32Array.from(batch, (_, k) => pos + k);
    const [token = -1] = await L.step(engine, batch, positions, new Int32Array(batch.length).fill(seq), want, Float64Array.of(0, 1, 0, 0));
    pos += batch.length;
    out.push(token);
    batch = Int32Array.of(token);
  }
  return out;
}

describe('llama.cpp addon', () => {
  const open: LlamaHandle[] = [];
  const openModel = (family: VocabFamily, sequences = 1) => {
    const e = L.open(models.get(family)!, {contextTokens: 1024, sequences, batchTokens: 256, threads: 1});
    open.push(e);
    return e;
  };
  afterAll(() => {
    for (const e of open) L.close(e);
  });

  it.each(FAMILIES)('loads the %s test model with the shape and vocabulary it was written with', (family) => {
    const info = L.info(openModel(family));
    expect(info.architecture).toBe('llama');
    expect(info.layers).toBe(DEFAULT_SHAPE.layers);
    expect(info.embedding).toBe(DEFAULT_SHAPE.embedding);
    expect(info.parameters).toBeGreaterThan(10e6);
    expect(info.parameters).toBeLessThan(20e6);
    expect(info.chatTemplate).toContain('{%');
    expect(info.endOfGeneration.length).toBeGreaterThan(0);
  });

  it.each(FAMILIES)('tokenizes %s text and rendered chats exactly as the frontend does with the tokenizer it reads from the GGUF', async (family) => {
    const e = openModel(family);
    const model = resolveModel(models.get(family)!);
    expect(model).toMatchObject({format: 'gguf', tokenizerFamily: family, layers: DEFAULT_SHAPE.layers, contextLength: DEFAULT_SHAPE.contextLength});
    const files = await loadTokenizerFiles(model);
    const encoder = await PromptEncoder.create(files.tokenizerJson, Vocab.fromJson(files.tokenizerJson));
    const chat = new ChatTemplate(files.tokenizerConfig).render([
      {role: 'system', content: 'Be brief.'},
      {role: 'user', content: 'Hi there! 你好'},
      {role: 'assistant', content: 'Hello.'},
      {role: 'user', content: 'Count: 1 2 3'},
    ]);
    for (const text of [...TEXTS, chat]) expect([...L.tokenize(e, text, false, true)], JSON.stringify(text.slice(0, 40))).toEqual(await encoder.encodeUncached(text));
  });

  it('decodes two sequences in one batch as it decodes each alone (greedy)', async () => {
    const e = openModel('llama3_1', 2);
    const a = L.tokenize(e, 'The first prompt is about cats.', true, false);
    const b = L.tokenize(e, 'A second, different prompt: dogs and their owners.', true, false);
    const alone = [await greedy(e, 0, a, 0, 8), await greedy(e, 1, b, 0, 8)];
    L.seqRemove(e, -1, 0, -1);
    // Both prompts in one batch, then both sequences step together.
    const tokens = Int32Array.from([...a, ...b]);
    const positions = Int32Array.from([...a.keys(), ...b.keys()]);
    const seqs = Int32Array.from([...a.map(() => 0), ...b.map(() => 1)]);
    const want = new Int8Array(tokens.length);
    want[a.length - 1] = want[tokens.length - 1] = 1;
    let next = await L.step(e, tokens, positions, seqs, want, Float64Array.of(0, 1, 0, 0, 0, 1, 0, 0));
    const together: number[][] = [[...next]];
    together.push([together[0]!.pop()!]);
    for (let i = 1; i < 8; i++) {
      next = await L.step(e, Int32Array.from(next), Int32Array.of(a.length + i - 1, b.length + i - 1), Int32Array.of(0, 1), Int8Array.of(1, 1), Float64Array.of(0, 1, 0, 0, 0, 1, 0, 0));
      together[0]!.push(next[0]!);
      together[1]!.push(next[1]!);
    }
    expect(together).toEqual(alone);
    expect(new Set(alone[0]).size).toBeGreaterThan(3); // a model of its own output matrix does not just repeat
  });

  it("moves a sequence's KV state into another context, which continues exactly where it left off", async () => {
    const prefill = openModel('qwen3');
    const decode = openModel('qwen3', 2);
    const prompt = L.tokenize(prefill, 'Move this prompt between workers and keep decoding.', false, false);
    const reference = await greedy(prefill, 0, prompt, 0, 10);
    L.seqRemove(prefill, 0, 0, -1);
    // Prefill: the prompt and its first token; the state then carries the prompt's cells.
    const [first = -1] = await greedy(prefill, 0, prompt, 0, 1);
    const state = L.seqStateGet(prefill, 0);
    expect(L.seqStateSet(decode, 1, state)).toBe(state.length);
    expect(L.seqPosMax(decode, 1)).toBe(prompt.length - 1);
    const rest = await greedy(decode, 1, Int32Array.of(first), prompt.length, 9);
    expect([first, ...rest]).toEqual(reference);
  });

  it('refuses what it cannot do in words: a missing file, a second step at once', async () => {
    expect(() => L.open(join(dir, 'missing.gguf'), {contextTokens: 64, sequences: 1, batchTokens: 16, threads: 1})).toThrow(/could not load/);
    const e = openModel('llama3_1');
    const one = L.step(e, Int32Array.of(1), Int32Array.of(0), Int32Array.of(0), Int8Array.of(1), Float64Array.of(0, 1, 0, 0));
    expect(() => L.step(e, Int32Array.of(2), Int32Array.of(1), Int32Array.of(0), Int8Array.of(1), Float64Array.of(0, 1, 0, 0))).toThrow(/already running/);
    expect(() => L.seqRemove(e, 0, 0, -1)).toThrow(/in use by a running step/);
    await one;
  });
});

describe('the CPU the addon is built for', () => {
  it('names the instruction sets a CPU lacks, and trusts a machine whose flags it cannot read', () => {
    expect(missingCpuFeatures('processor : 0\nflags : fpu sse4_2 avx avx2 fma f16c bmi2\n')).toEqual([]);
    expect(missingCpuFeatures('processor : 0\nflags : fpu sse4_2 avx\n')).toEqual(['AVX2', 'FMA', 'F16C']);
    expect(missingCpuFeatures('no flags line here')).toEqual([]);
    expect(missingCpuFeatures()).toEqual([]); // this machine runs the tests above
  });
});
