// npm run bench:tokenizer — prompt encoding speed per model family, side by side in one run:
// Hugging Face's native tokenizer (one call per prompt) vs our JS byte-level BPE (cold: a fresh
// word cache; warm: after the first pass) vs the full PromptEncoder on multi-turn conversations
// (segment cache). 1k-token prompts. Prints a table and a JSON record.
import {resolveModel} from '../src/config/models.js';
import {ModelPipeline} from '../src/frontend/model-pipeline.js';
import {prng} from '../src/shared/prng.js';
import {BpeEncoder} from '../src/tokenizer/bpe.js';
import {loadTokenizerFiles} from '../src/tokenizer/bundled.js';
import {ChatTemplate} from '../src/tokenizer/chat-template.js';
import {PromptEncoder} from '../src/tokenizer/encoder.js';
import {Vocab} from '../src/tokenizer/vocab.js';

const PROMPTS = Number(process.env.PROMPTS ?? 300);
const WORDS =
  'the of and to in is that it for as with was on be by this are from at or an have not which but they all we can one there their more about when would will so what up out if into time has two some could other than then now only its over also new these may first any people like how most made after where through just many before good well way even because each those very system model data cache memory token request worker prefix block route load serving latency'.split(' ');

async function main() {
  const rows: Record<string, string | number>[] = [];
  for (const alias of ['deepseek-r1', 'llama-3.1-8b', 'qwen3-0.6b']) {
    const files = await loadTokenizerFiles(resolveModel(alias));
    const vocab = Vocab.fromJson(files.tokenizerJson);
    const template = new ChatTemplate(files.tokenizerConfig);
    const rand = prng(7);
    const prompts = Array.from({length: PROMPTS}, (_, i) => `Request ${i}: ${Array.from({length: 750}, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')}.`);
    const native = await PromptEncoder.create(files.tokenizerJson, vocab);
    let tokens = 0;
    let t0 = performance.now();
    for (const p of prompts) tokens += (await native.encodeUncached(p)).length;
    const nativeMs = performance.now() - t0;
    const bpe = BpeEncoder.tryCreate(JSON.parse(files.tokenizerJson))!;
    t0 = performance.now();
    for (const p of prompts) bpe.encode(p);
    const coldMs = performance.now() - t0;
    t0 = performance.now();
    for (const p of prompts) bpe.encode(p);
    const warmMs = performance.now() - t0;
    // Multi-turn: each turn's prompt is the whole conversation so far, rendered by the chat template.
    const enc = await PromptEncoder.create(files.tokenizerJson, vocab);
    const history: {role: string; content: string}[] = [];
    let turnTokens = 0;
    let turnMs = 0;
    for (let t = 0; t < 40; t++) {
      history.push({role: 'user', content: prompts[t]!.slice(0, 600)}, {role: 'assistant', content: prompts[t + 1]!.slice(0, 200)});
      const text = template.render(history);
      const s = performance.now();
      turnTokens += (await enc.encode(text)).length;
      turnMs += performance.now() - s;
    }
    // The frontend's whole chat path as served (ModelPipeline.chatTokens: the template compiled, or
    // interpreted and resumed from the conversation's last turn; only the new suffix encoded): rounds of 50 conversations of 8 turns,
    // each turn the history so far plus a reply and a new question (Dynamo's figure for its
    // tokenizer cache on multi-turn chat is of this kind). Best of 3 rounds of new conversations
    // (a round is short enough for one collection to weigh on it).
    const pipeline = await ModelPipeline.load(resolveModel(alias), alias);
    const turnWords = (n: number) => Array.from({length: n}, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    const conversations = Array.from({length: 160}, (_, c) => {
      const h: {role: string; content: string}[] = [{role: 'system', content: `Conversation ${c}. ${turnWords(60)}`}];
      const turns: {role: string; content: string}[][] = [];
      for (let t = 0; t < 8; t++) {
        h.push({role: 'user', content: turnWords(90)});
        turns.push([...h]);
        h.push({role: 'assistant', content: turnWords(30)});
      }
      return turns;
    });
    for (const turns of conversations.slice(0, 10)) for (const m of turns) await pipeline.chatTokens(m); // warm-up (JIT)
    let chatTokens = 0;
    let chatMs = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      let n = 0;
      const s = performance.now();
      for (const turns of conversations.slice(10 + 50 * round, 60 + 50 * round)) for (const m of turns) n += (await pipeline.chatTokens(m)).length;
      const ms = performance.now() - s;
      if (ms < chatMs) [chatMs, chatTokens] = [ms, n];
    }
    const mtok = (n: number, ms: number) => +(n / ms / 1000).toFixed(2);
    rows.push({
      model: alias,
      tokens_per_prompt: Math.round(tokens / PROMPTS),
      native_Mtok_s: mtok(tokens, nativeMs),
      js_cold_Mtok_s: mtok(tokens, coldMs),
      js_warm_Mtok_s: mtok(tokens, warmMs),
      js_vs_native: +(nativeMs / warmMs).toFixed(1),
      multiturn_Mtok_s: mtok(turnTokens, turnMs),
      chat_path_Mtok_s: mtok(chatTokens, chatMs),
      chat_path_us_per_turn: +((1000 * chatMs) / (50 * 8)).toFixed(1),
    });
  }
  const cols = Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  console.log(`bench:tokenizer — ${PROMPTS} prompts per model, one core (sequential calls)\n`);
  console.log(cols.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  for (const r of rows) console.log(cols.map((c, i) => String(r[c]).padEnd(widths[i]!)).join('  '));
  console.log(`\n${JSON.stringify({bench: 'tokenizer', prompts: PROMPTS, results: rows})}`);
}

void main();
