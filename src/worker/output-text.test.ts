import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {loadTokenizerFiles} from '../tokenizer/bundled.js';
import {ChatTemplate} from '../tokenizer/chat-template.js';
import {PromptEncoder} from '../tokenizer/encoder.js';
import {Vocab} from '../tokenizer/vocab.js';
import {loadOutputText, thinkingFor} from './output-text.js';

const think = {open: [1, 2], close: [3, 4, 5]};
const tags = {open: 1, close: 4};

describe('the mocker thinks as the chat template decided', () => {
  it('opens the block itself, continues an opened one, or does not think when the prompt closed it', () => {
    expect(thinkingFor([9, 9, 9], tags, think)).toEqual(think);
    expect(thinkingFor([9, 9, 1, 2], tags, think)).toEqual({open: [], close: think.close});
    expect(thinkingFor([9, 1, 2, 3, 4, 5], tags, think)).toBeUndefined();
    expect(thinkingFor([9, 1], {}, think)).toEqual(think); // a vocabulary without the tags
  });

  it.each([
    ['deepseek-r1', false],
    ['qwen3-0.6b', true],
  ])('%s: <think> and </think> are single tokens, and the reply opens the block only if the template did not', async (alias, opensItself) => {
    const model = resolveModel(alias);
    const files = await loadTokenizerFiles(model);
    const vocab = Vocab.fromJson(files.tokenizerJson);
    const encoder = await PromptEncoder.create(files.tokenizerJson, vocab);
    const prompt = await encoder.encode(new ChatTemplate(files.tokenizerConfig).render([{role: 'user', content: 'Why?'}]));
    const source = await (await loadOutputText(model)).tokenSource({requestId: 'r', tokenIds: prompt, maxTokens: 40, seed: 1}, 40);
    const reply = Array.from({length: 40}, source);
    const [open, close] = [vocab.id('<think>')!, vocab.id('</think>')!];
    expect(reply[0] === open).toBe(opensItself);
    expect(reply.filter((t) => t === open)).toHaveLength(opensItself ? 1 : 0);
    expect(reply.filter((t) => t === close)).toHaveLength(1);
    // A tiny budget still thinks: two tokens never end in the closing tag alone.
    const short = await (await loadOutputText(model)).tokenSource({requestId: 's', tokenIds: prompt, maxTokens: 2, seed: 1}, 2);
    const two = [short(), short()];
    expect(two).not.toContain(close);
    if (!opensItself) expect(two).not.toContain(open); // a word of the thought, then the line before the tag
  });
});
