import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ROOT} from '../../test/helpers/processes.js';
import {resolveModel} from '../config/models.js';
import {loadTokenizerFiles} from './bundled.js';
import {ChatTemplate} from './chat-template.js';
import {PromptEncoder} from './encoder.js';
import {IncrementalDetokenizer, Vocab} from './vocab.js';

const dir = join(ROOT, 'test/fixtures/tiny-model');

describe('a local model directory (test/fixtures/tiny-model)', () => {
  it('is read with its own tokenizer and chat template', async () => {
    const model = resolveModel(dir);
    expect(model.path).toBe(dir);
    expect(model.contextLength).toBe(2048);
    const files = await loadTokenizerFiles(model);
    const vocab = Vocab.fromJson(files.tokenizerJson);
    const encoder = await PromptEncoder.create(files.tokenizerJson, vocab);
    const prompt = new ChatTemplate(files.tokenizerConfig).render([{role: 'user', content: 'the people of the time'}]);
    expect(prompt).toBe('<|im_start|>user\nthe people of the time<|im_end|>\n<|im_start|>assistant\n');
    const ids = await encoder.encode(prompt);
    expect(ids).toEqual(await encoder.encodeUncached(prompt));
    // Whole words of the vocabulary are single tokens.
    expect(await encoder.encode(' the people')).toEqual([vocab.id('Ġthe'), vocab.id('Ġpeople')]);
    const d = new IncrementalDetokenizer(vocab, false);
    expect(ids.map((i) => d.push(i)).join('') + d.flush()).toBe(prompt);
  });
});
