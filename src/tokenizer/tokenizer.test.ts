import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {loadTokenizerFiles} from './bundled.js';
import {prng} from '../shared/prng.js';
import {PromptEncoder} from './encoder.js';
import {IncrementalDetokenizer, Vocab} from './vocab.js';

describe.each(['deepseek-r1', 'llama-3.1-8b', 'qwen3-0.6b'])('tokenizer of %s', (alias) => {
  const setup = (async () => {
    const files = await loadTokenizerFiles(resolveModel(alias));
    const vocab = Vocab.fromJson(files.tokenizerJson);
    return {files, vocab, encoder: await PromptEncoder.create(files.tokenizerJson, vocab)};
  })();

  it('round-trips text with multi-byte characters through the incremental detokenizer', async () => {
    const {vocab, encoder} = await setup;
    const text = 'Hello wörld — naïve café 東京 🙂 end.';
    const ids = await encoder.encode(text);
    const d = new IncrementalDetokenizer(vocab);
    let out = '';
    for (const id of ids) out += d.push(id);
    out += d.flush();
    expect(out).toBe(text);
  });

  it("detokenizes every token as its bytes decode, whole characters at once and split ones when complete", async () => {
    const {vocab} = await setup;
    const lenient = new TextDecoder();
    const rand = prng(5);
    let whole = 0;
    for (let id = 0; id < vocab.size; id++) {
      if (!vocab.idToBytes[id] || vocab.special.has(id)) continue;
      const d = new IncrementalDetokenizer(vocab);
      const out = d.push(id);
      if (vocab.wholeText(id) !== null) whole++;
      expect(out + d.flush()).toBe(lenient.decode(vocab.idToBytes[id]));
    }
    expect(whole).toBeGreaterThan(0.9 * vocab.size - vocab.special.size);
    // Streams of random tokens: the pieces join to what the whole byte string decodes to.
    for (let n = 0; n < 200; n++) {
      const ids = Array.from({length: 20}, () => Math.floor(rand() * vocab.size)).filter((id) => vocab.idToBytes[id] && !vocab.special.has(id));
      const d = new IncrementalDetokenizer(vocab);
      let out = '';
      for (const id of ids) out += d.push(id);
      out += d.flush();
      const bytes = ids.flatMap((id) => [...vocab.idToBytes[id]!]);
      expect(out).toBe(lenient.decode(Uint8Array.from(bytes)));
    }
  });

  it('encodes id-for-id like the native Hugging Face tokenizer, on code, prose and many scripts', async () => {
    const {encoder} = await setup;
    expect(encoder.engine).toBe('js-bpe');
    const {readFileSync} = await import('node:fs');
    const texts = [
      readFileSync(new URL('./encoder.ts', import.meta.url), 'utf8'),
      readFileSync(new URL('../../README.md', import.meta.url), 'utf8'),
      "Hello wörld — naïve café 東京 🙂 12345678 it's THEY'LL we'Re  \n\n\t  spaces   end",
      'ｈｅｌｌｏ　全角 العربية русский 한국어 ½ ² x²+y²=z² ひらがな カタカナ 漢字',
    ];
    for (const t of texts) for (const para of t.split(/(?<=\n\n)/)) expect(await encoder.encode(para)).toEqual(await encoder.encodeUncached(para));
  });

  it('encodes segment by segment exactly as the whole text, and reuses repeated segments', async () => {
    const {vocab, encoder} = await setup;
    const specials = vocab.added.filter((t) => t.special).map((t) => t.content);
    const turn = (i: number) => `${specials[1 % specials.length]}User turn ${i}: tell me about caching.${specials[2 % specials.length]} Sure, answer ${i}.`;
    let convo = '';
    for (let i = 0; i < 4; i++) {
      convo += turn(i);
      expect(await encoder.encode(convo)).toEqual(await encoder.encodeUncached(convo));
    }
    expect(encoder.stats.cachedSegments).toBeGreaterThan(0);
  });
});

describe('chat templates', () => {
  it('render DeepSeek-R1 prompts as the model expects', async () => {
    const {ChatTemplate} = await import('./chat-template.js');
    const files = await loadTokenizerFiles(resolveModel('deepseek-r1'));
    const t = new ChatTemplate(files.tokenizerConfig);
    // R1's template opens the think block, and drops the reasoning of earlier assistant turns.
    expect(t.render([{role: 'user', content: 'Hello there'}])).toBe('<｜begin▁of▁sentence｜><｜User｜>Hello there<｜Assistant｜><think>\n');
    expect(t.render([{role: 'user', content: 'Hi'}, {role: 'assistant', content: '<think>\nhmm\n</think>\n\nHello'}, {role: 'user', content: 'Again'}])).toBe(
      '<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>\n\nHello<｜end▁of▁sentence｜><｜User｜>Again<｜Assistant｜><think>\n',
    );
    const vocab = Vocab.fromJson(files.tokenizerJson);
    expect([vocab.id('<think>'), vocab.id('</think>')]).toEqual([128798, 128799]);
  });

  it('render Llama 3.1 and Qwen3 prompts with their headers', async () => {
    const {ChatTemplate} = await import('./chat-template.js');
    const llama = new ChatTemplate((await loadTokenizerFiles(resolveModel('llama-3.1-8b'))).tokenizerConfig);
    expect(llama.render([{role: 'user', content: [{type: 'text', text: 'Hi'}]}])).toContain('<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>');
    const qwen = new ChatTemplate((await loadTokenizerFiles(resolveModel('qwen3-0.6b'))).tokenizerConfig);
    expect(qwen.render([{role: 'user', content: 'Hi'}])).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });
});
