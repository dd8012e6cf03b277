/**
 * The tokenizer's prefix cache is exact: for every bundled model family, a conversation tokenized
 * turn by turn through the cached path (resumed template render, encoding of the new suffix only)
 * gives the ids of a full render by @huggingface/jinja's own Template and an encode by the native
 * Hugging Face tokenizer, on a corpus with system prompts, tools, reasoning turns, tool calls,
 * unicode, branching and edited histories. The earlier prompt a turn says it continues (which the
 * router reuses the blocks of) starts the same way.
 */
import {Template} from '@huggingface/jinja';
import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {ModelPipeline} from '../frontend/model-pipeline.js';
import {prng} from '../shared/prng.js';
import {loadTokenizerFiles} from './bundled.js';
import type {ChatMessage} from './chat-template.js';

const WORDS = 'the model serves requests with a cache of blocks and routes each prompt 東京 naïve café 🙂 ½ x²+y² ひらがな العربية — "quoted" it\'s'.split(' ');
const TOOLS = [{type: 'function', function: {name: 'get_weather', description: 'Weather of a city', parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}}}];

/** Conversations as the turns a client sends: each turn is the full message list so far. */
function corpus(seed: number, alias: string): {turns: ChatMessage[][]; tools?: unknown[]}[] {
  const rand = prng(seed);
  const words = (n: number) => Array.from({length: n}, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
  const out: {turns: ChatMessage[][]; tools?: unknown[]}[] = [];
  for (let c = 0; c < 12; c++) {
    const history: ChatMessage[] = [];
    if (c % 3 !== 2) history.push({role: 'system', content: `You are assistant ${c}. ${words(20)}`});
    const tools = c % 4 === 1 ? TOOLS : undefined;
    const turns: ChatMessage[][] = [];
    for (let t = 0; t < 5; t++) {
      history.push({role: 'user', content: t % 2 ? [{type: 'text', text: words(15)}] : `${words(12)}\n\n${words(5)}`});
      turns.push(structuredClone(history));
      if (c % 5 === 3 && t === 1) {
        // A tool round trip: the call, its result.
        // (DeepSeek's template takes a tool-calling turn's content as null; the others want a string.)
        history.push({role: 'assistant', content: alias.startsWith('deepseek') ? null : '', tool_calls: [{id: 'call_1', type: 'function', function: {name: 'get_weather', arguments: '{"city": "Paris"}'}}]});
        history.push({role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}'});
        turns.push(structuredClone(history));
      }
      // Reasoning turns come back with their think block, as clients echo them.
      const reply = c % 2 ? `<think>\n${words(8)}\n</think>\n\n${words(10)}` : words(10);
      history.push({role: 'assistant', content: reply});
      if (c % 6 === 5 && t === 2) history.push({role: 'system', content: `A late system note: ${words(6)}`});
    }
    out.push({turns, tools});
  }
  // A branch (two continuations of one prefix) and an edited history (an early message changed).
  const base = out[0]!.turns[2]!;
  out.push({turns: [[...base.slice(0, -1), {role: 'user', content: 'another branch 🌿'}]]});
  out.push({turns: [[{...base[0]!, content: 'an edited system prompt'}, ...base.slice(1)]]});
  return out;
}

const CASES = ['deepseek-r1', 'llama-3.1-8b', 'qwen3-0.6b'].flatMap((alias) => [
  {alias, compiled: true},
  {alias, compiled: false},
]);

describe.each(CASES)('tokenizer prefix cache of $alias (template compiled: $compiled)', ({alias, compiled}) => {
  it('gives the ids of a full render and a native encode, turn after turn', async () => {
    const model = resolveModel(alias);
    const pipeline = await ModelPipeline.load(model, alias, {compileTemplate: compiled});
    const config = (await loadTokenizerFiles(model)).tokenizerConfig;
    const reference = new Template(config.chat_template as string);
    const special = (t: unknown) => (typeof t === 'string' ? t : ((t as {content?: string})?.content ?? ''));
    let reused = 0;
    const renders = {compiled: 0, resumed: 0, full: 0};
    pipeline.onTokenize = (r) => {
      reused += r.reusedTokens;
      renders[r.render!]++;
    };
    let checked = 0;
    let continued = 0;
    for (const {turns, tools} of corpus(7, alias)) {
      for (const messages of turns) {
        const flat = messages.map((m) => (Array.isArray(m.content) ? {...m, content: m.content.map((p) => p.text ?? '').join('')} : m));
        const text = reference.render({messages: flat, tools, add_generation_prompt: true, bos_token: special(config.bos_token), eos_token: special(config.eos_token)});
        const {ids, continues} = await pipeline.chatPrompt(messages, tools);
        expect(ids, `${alias}: ${JSON.stringify(messages).slice(0, 200)}`).toEqual(await pipeline.encoder.encodeUncached(text));
        // What the router is told it may reuse blocks of: the earlier prompt's ids, exactly.
        if (continues) {
          expect(ids.slice(0, continues.length)).toEqual(continues.tokens.slice(0, continues.length));
          continued++;
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
    // The cache was used, not bypassed: earlier prompts' tokens were reused on later turns.
    expect(reused).toBeGreaterThan(1000);
    expect(continued).toBeGreaterThan(30);
    if (compiled) {
      // Every family's template compiles; only Qwen3's tools (printed with tojson) go to the interpreter.
      expect(renders.compiled).toBeGreaterThan(alias === 'qwen3-0.6b' ? 40 : 60);
      if (alias !== 'qwen3-0.6b') expect(renders.compiled).toBe(checked);
    } else if (alias === 'qwen3-0.6b') {
      // Interpreted: DeepSeek's and Llama's message loops cannot look ahead, so their renders
      // resume; Qwen3's drops the reasoning of turns before the last query, so it renders in full.
      expect(renders.resumed).toBe(0);
    } else expect(renders.resumed).toBeGreaterThan(30);
  }, 60_000);
});
