import {describe, expect, it} from 'vitest';
import {profileSchema} from './profile.js';
import {loadBenchTokenizer} from './tokens.js';
import {promptsWorkload, syntheticWorkload, traceWorkload} from './workload.js';

const spec = (w: Record<string, unknown>) => profileSchema.parse({workload: w}).workload;

describe('workloads', () => {
  it('synthetic prompts have exactly the requested token count in the model tokenizer, shared prefixes included', async () => {
    for (const model of ['llama-3.1-8b', 'deepseek-r1', 'qwen3-0.6b']) {
      const tok = await loadBenchTokenizer(model, true);
      const w = syntheticWorkload(spec({isl: 300, islStddev: 40, prefixGroups: 3, prefixLength: 100}), tok.words, 7);
      const prefixes = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const t = w.session(i).turns[0]!;
        expect(await tok.counter!.count(t.content as string)).toBe(t.plannedInputTokens);
        prefixes.add((t.content as string).split(' ').slice(0, 101).join(' '));
      }
      expect(prefixes.size).toBe(3); // every prompt opens with one of the 3 shared prefixes
    }
  });

  it('is a pure function of seed and index; lengths follow the requested normal distribution', async () => {
    const tok = await loadBenchTokenizer('llama-3.1-8b', true);
    const a = syntheticWorkload(spec({isl: 200, islStddev: 20, osl: 50, oslStddev: 10}), tok.words, 3);
    const b = syntheticWorkload(spec({isl: 200, islStddev: 20, osl: 50, oslStddev: 10}), tok.words, 3);
    expect(a.session(5)).toEqual(b.session(5));
    const isl = Array.from({length: 2000}, (_, i) => a.session(i).turns[0]!.plannedInputTokens!);
    const mean = isl.reduce((x, y) => x + y, 0) / isl.length;
    const sd = Math.sqrt(isl.reduce((x, y) => x + (y - mean) ** 2, 0) / isl.length);
    expect(mean).toBeGreaterThan(198);
    expect(mean).toBeLessThan(202);
    expect(sd).toBeGreaterThan(18.5);
    expect(sd).toBeLessThan(21.5);
  });

  it('multi-turn sessions draw a turn count and think time per turn', () => {
    const w = syntheticWorkload(spec({isl: 10, sessionTurns: 4, thinkTimeMs: 250}), [' a', ' b'], 1);
    const s = w.session(0);
    expect(s.turns).toHaveLength(4);
    expect(s.turns.map((t) => t.thinkMs)).toEqual([0, 250, 250, 250]);
  });

  it('trace: equal hash ids give equal text; the last id takes the remainder; a wrong block size is refused', async () => {
    const tok = await loadBenchTokenizer('llama-3.1-8b', true);
    const trace = [
      {arrivalMs: 0, inputLength: 20, outputLength: 3, hashIds: [1, 2, 3]},
      {arrivalMs: 5, inputLength: 17, outputLength: 3, hashIds: [1, 2, 4]},
    ];
    const w = traceWorkload(trace, 8, tok.words, 't.jsonl');
    const [a, b] = [w.session(0).turns[0]!, w.session(1).turns[0]!];
    expect(await tok.counter!.count(a.content as string)).toBe(20);
    expect(await tok.counter!.count(b.content as string)).toBe(17);
    const words = (t: typeof a) => (t.content as string).split(' ').slice(1);
    expect(words(a).slice(0, 16)).toEqual(words(b).slice(0, 16)); // ids 1, 2 shared
    expect(words(a).slice(16)).not.toEqual(words(b).slice(16));
    expect(w.arrivalMs!(1)).toBe(5);
    expect(() => traceWorkload(trace, 4, tok.words, "t.jsonl")).toThrow(/input_length 20 does not fit 3 hash ids of 4 tokens/);
  });

  it('prompt files: messages or prompt per line, clear errors otherwise', () => {
    const w = promptsWorkload('{"messages":[{"role":"system","content":"s"},{"role":"user","content":"q"}],"max_tokens":7}\n\n{"prompt":"p"}\n', 'p.jsonl', 64);
    expect(w.size).toBe(2);
    expect(w.session(0).turns[0]).toMatchObject({maxTokens: 7, content: [{role: 'system'}, {role: 'user'}]});
    expect(w.session(1).turns[0]).toMatchObject({maxTokens: 64, content: 'p'});
    expect(() => promptsWorkload('{"text": 1}\n', 'p.jsonl', 1)).toThrow(/p\.jsonl:1: needs "messages"/);
    expect(() => promptsWorkload('nope\n', 'p.jsonl', 1)).toThrow(/p\.jsonl:1: not valid JSON/);
    expect(() => promptsWorkload('\n', 'p.jsonl', 1)).toThrow(/no prompts/);
  });

  it('an unknown model means no re-tokenizing; an unknown explicit tokenizer is an error', async () => {
    const t = await loadBenchTokenizer('some-org/unknown-model', false);
    expect(t.counter).toBeUndefined();
    expect(t.words.length).toBeGreaterThan(50);
    await expect(loadBenchTokenizer('nope', true)).rejects.toThrow(/unknown tokenizer "nope"/);
    expect((await loadBenchTokenizer('Qwen/Qwen3-0.6B', false)).counter?.name).toBe('qwen3-0.6b');
  });
});
