import {describe, expect, it} from 'vitest';
import type {GenerationEvent} from './generate.js';
import type {ShapedRequest} from './request-shaping.js';
import {streamReply, unaryReply} from './respond.js';

const usage = {promptTokens: 5, completionTokens: 4, cachedTokens: 0};
const shaped = (stream: boolean): ShapedRequest =>
  ({endpoint: 'chat_completions', stream, includeUsage: false, meta: {id: 'chatcmpl-1', created: 0, model: 'm'}, chat: {reasoningParser: 'basic', toolsOffered: false}, generation: {}}) as never;

/** Events as a Qwen3 model streams them, with a log of what happened when. */
function events(log: string[]): AsyncIterable<GenerationEvent> {
  const script: GenerationEvent[] = [
    {kind: 'text', text: '<think>', tokens: 1},
    {kind: 'text', text: '\n', tokens: 1},
    {kind: 'text', text: 'Hmm', tokens: 1},
    {kind: 'finish', reason: 'length', usage},
  ];
  return (async function* () {
    for (const e of script) {
      log.push(`engine:${e.kind === 'text' ? JSON.stringify(e.text) : 'finish'}`);
      yield e;
    }
  })();
}

describe('the first client-visible token (TTFT as users see it)', () => {
  it('is the first reasoning text, not the <think> tag a parser holds back (stream)', async () => {
    const log: string[] = [];
    const reply = streamReply(shaped(true), events(log), {}, new AbortController().signal, {heard: () => {}, visible: () => log.push('visible'), settled: () => log.push('settled')});
    if (!('stream' in reply)) throw new Error('expected a stream');
    for await (const frame of reply.stream) if (frame.includes('"Hmm"')) log.push('written');
    expect(log).toEqual(['engine:"<think>"', 'engine:"\\n"', 'engine:"Hmm"', 'visible', 'written', 'engine:finish', 'settled']);
  });

  it('is the same moment for a unary reply', async () => {
    const log: string[] = [];
    await unaryReply(shaped(false), events(log), {}, {heard: () => {}, visible: () => log.push('visible')});
    expect(log).toEqual(['engine:"<think>"', 'engine:"\\n"', 'engine:"Hmm"', 'visible', 'engine:finish']);
  });
});

describe('the SSE reply', () => {
  it('sends the finish, the usage and [DONE] in one write', async () => {
    const reply = streamReply({...shaped(true), includeUsage: true}, events([]), {}, new AbortController().signal, {heard: () => {}, visible: () => {}, settled: () => {}});
    if (!('stream' in reply)) throw new Error('expected a stream');
    const frames: string[] = [];
    for await (const frame of reply.stream) frames.push(frame);
    const last = frames.at(-1)!;
    expect(last.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(last).toContain('"finish_reason":"length"');
    expect(last).toContain('"completion_tokens":4');
    expect(frames.filter((f) => f.includes('[DONE]'))).toHaveLength(1);
  });
});
