/**
 * What a bench run sends: sessions of one or more turns. Pure: every session is a function of its
 * index and the seed (so a duration-bound run can draw as many as it needs, and two runs with one
 * seed send the same prompts); files are read once by the caller.
 * - synthetic: input/output lengths ~ Normal(mean, stddev) (AIPerf), optional shared-prefix groups,
 *   multi-turn sessions whose turns carry the conversation so far, with think time between turns;
 * - trace (Mooncake): each hash id stands for a fixed chunk of `traceBlockSize` words, so equal ids
 *   give equal text; the last id gets input_length − (n−1)·blockSize words, which must be in
 *   (0, blockSize] as AIPerf requires; arrival offsets come from the timestamps;
 * - prompts: JSONL of {"messages": [...]} or {"prompt": "..."} with optional max_tokens.
 */
import {UserError} from '../shared/errors.js';
import {prng} from '../shared/prng.js';
import type {TraceRequest} from '../traces/mooncake.js';
import type {ChatMessage} from '../tokenizer/chat-template.js';
import type {BenchProfile} from './profile.js';
import {wordsText} from './tokens.js';

export interface BenchTurn {
  /** The new user text of this turn, or the whole message list (prompt files). */
  content: string | ChatMessage[];
  maxTokens: number;
  /** Input tokens the workload intended (synthetic and trace); re-tokenizing measures the real count. */
  plannedInputTokens?: number;
  /** Pause after the previous turn's reply, before this one. */
  thinkMs: number;
}

export interface BenchSession {
  index: number;
  /** Send offset in ms from the start of the run (trace schedule only). */
  atMs?: number;
  turns: BenchTurn[];
}

export interface Workload {
  kind: 'synthetic' | 'trace' | 'prompts';
  /** Sessions in the source; undefined = unbounded (synthetic). Indexes past it wrap around. */
  size?: number;
  session(index: number): BenchSession;
  /** When session `index` arrives, ms from the trace's start (trace only; cheaper than building the session). */
  arrivalMs?(index: number): number;
}

/** Normal(mean, sd) by Box–Muller, rounded and clamped to ≥ min. */
function normalInt(mean: number, sd: number, rand: () => number, min = 1): number {
  if (!sd) return Math.max(min, Math.round(mean));
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Math.max(min, Math.round(mean + sd * z));
}

const mix = (seed: number, i: number) => (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(i + 1, 0x9e3779b1)) >>> 0;

export function syntheticWorkload(w: BenchProfile['workload'], words: readonly string[], seed: number): Workload {
  if (w.prefixGroups && w.prefixLength >= w.isl) {
    throw new UserError(`prefixLength (${w.prefixLength}) must be below isl (${w.isl})`, 'the shared prefix is part of the input length: lower prefixLength or raise isl');
  }
  const prefixes = Array.from({length: w.prefixGroups}, (_, g) => wordsText(words, w.prefixLength, prng(mix(seed ^ 0x7f4a7c15, g))));
  return {
    kind: 'synthetic',
    session(index) {
      const rand = prng(mix(seed, index));
      const turns = normalInt(w.sessionTurns, w.sessionTurnsStddev, rand);
      const prefix = prefixes.length ? prefixes[Math.floor(rand() * prefixes.length)]! : '';
      const prefixTokens = prefixes.length ? w.prefixLength : 0;
      return {
        index,
        turns: Array.from({length: turns}, (_, t) => {
          const isl = normalInt(w.isl, w.islStddev, rand, prefixTokens + 1);
          // The shared prefix opens the session's first turn; later turns already carry it in the history.
          const head = t === 0 ? prefix : '';
          const own = isl - (t === 0 ? prefixTokens : 0);
          return {
            content: head + wordsText(words, own, rand),
            maxTokens: normalInt(w.osl, w.oslStddev, rand),
            plannedInputTokens: t === 0 ? isl : own,
            thinkMs: t === 0 ? 0 : Math.max(0, w.thinkTimeMs + (w.thinkTimeStddevMs ? w.thinkTimeStddevMs * (Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())) : 0)),
          };
        }),
      };
    },
  };
}

export function traceWorkload(trace: readonly TraceRequest[], blockSize: number, words: readonly string[], source: string): Workload {
  trace.forEach((r, i) => {
    const last = r.inputLength - (r.hashIds.length - 1) * blockSize;
    if (r.hashIds.length && !(last > 0 && last <= blockSize)) {
      throw new UserError(
        `${source}: request ${i + 1}: input_length ${r.inputLength} does not fit ${r.hashIds.length} hash ids of ${blockSize} tokens`,
        'set --trace-block-size to the block size the trace was made with (512 for Mooncake traces, 16 for Bailian)',
      );
    }
  });
  const idText = (id: number, n: number) => wordsText(words, n, prng(mix(0x2545f491, id)));
  return {
    kind: 'trace',
    size: trace.length,
    arrivalMs: (index) => trace[index % trace.length]!.arrivalMs,
    session(index) {
      const r = trace[index % trace.length]!;
      let content = '';
      if (r.hashIds.length) {
        r.hashIds.forEach((id, k) => {
          content += idText(id, k === r.hashIds.length - 1 ? r.inputLength - k * blockSize : blockSize);
        });
      } else content = wordsText(words, r.inputLength, prng(mix(0x68e31da4, index)));
      return {index, atMs: r.arrivalMs, turns: [{content, maxTokens: Math.max(1, r.outputLength), plannedInputTokens: r.inputLength, thinkMs: 0}]};
    },
  };
}

/** Parses a prompts JSONL file: one {"messages": [...]} or {"prompt": "..."} per line, "max_tokens" optional. */
export function promptsWorkload(text: string, source: string, defaultMaxTokens: number): Workload {
  const turns: BenchTurn[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const where = `${source}:${i + 1}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      throw new UserError(`${where}: not valid JSON`, 'each line must be one JSON object, e.g. {"messages": [{"role": "user", "content": "Hi"}]}');
    }
    const maxTokens = o.max_tokens ?? o.output_length ?? defaultMaxTokens;
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw new UserError(`${where}: max_tokens must be a positive integer`);
    if (Array.isArray(o.messages) && o.messages.length && o.messages.every((m) => m && typeof m === 'object' && typeof (m as ChatMessage).role === 'string')) {
      turns.push({content: o.messages as ChatMessage[], maxTokens, thinkMs: 0});
    } else if (typeof o.prompt === 'string' || typeof o.text_input === 'string') {
      turns.push({content: String(o.prompt ?? o.text_input), maxTokens, thinkMs: 0});
    } else {
      throw new UserError(`${where}: needs "messages" (a list of {role, content}) or "prompt" (a string)`, 'e.g. {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64}');
    }
  });
  if (!turns.length) throw new UserError(`${source}: no prompts in the file`, 'write one JSON object per line');
  return {kind: 'prompts', size: turns.length, session: (index) => ({index, turns: [turns[index % turns.length]!]})};
}
