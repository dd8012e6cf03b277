import {describe, expect, it} from 'vitest';
import type {GenerateChunk, GenerateRequest} from '../worker/protocol.js';
import {type Attempts, type MigrationSettings, migratingStream} from './migration.js';

const PROMPT = [11, 12, 13, 14];
const BODY: GenerateRequest = {requestId: 'r1', tokenIds: PROMPT, maxTokens: 6, minTokens: 4, seed: 7};
const fail = (kind: string) => Object.assign(new Error(kind), {kind});

/** Workers as scripts: the tokens each sends, then how it ends (finish, or a failure of some kind). */
function cluster(scripts: Record<string, {tokens: number[]; ends: 'finish' | string}>, order: string[]) {
  const calls: {worker: string; body: GenerateRequest}[] = [];
  const excluded: string[][] = [];
  const log: string[] = [];
  const next = [...order];
  const attempts: Attempts = {
    async *call(worker, body) {
      calls.push({worker, body});
      const s = scripts[worker]!;
      for (const [i, t] of s.tokens.entries()) yield [{tokenIds: [t], ...(s.ends === 'finish' && i === s.tokens.length - 1 ? {finishReason: 'length' as const} : {})}];
      if (s.ends !== 'finish') throw fail(s.ends);
    },
    reroute: async (tokens, exclude) => {
      excluded.push([...exclude].sort());
      log.push(`reroute ${tokens.length}`);
      const w = next.shift();
      if (!w) throw fail('no_worker');
      return {workerId: w};
    },
    firstToken: () => log.push('first'),
    release: () => log.push('release'),
    migrated: (type, from, to) => log.push(`${type} ${from}→${to}`),
    maxSeqLenExceeded: () => log.push('max_seq_len'),
  };
  return {attempts, calls, excluded, log};
}

async function run(c: ReturnType<typeof cluster>, settings: MigrationSettings, opts: {guided?: boolean; signal?: AbortSignal} = {}) {
  const tokens: number[] = [];
  try {
    for await (const ch of migratingStream('a', BODY, {settings, guided: !!opts.guided, signal: opts.signal ?? new AbortController().signal}, c.attempts)) tokens.push(...(ch as GenerateChunk).tokenIds);
    return {tokens};
  } catch (e) {
    return {tokens, error: (e as {kind?: string}).kind};
  }
}

describe('request migration', () => {
  it('moves a request that fails mid-stream to another worker with prompt + output, and the client sees one stream', async () => {
    const c = cluster({a: {tokens: [1, 2, 3], ends: 'worker_gone'}, b: {tokens: [4, 5, 6], ends: 'finish'}}, ['b']);
    expect(await run(c, {limit: 3})).toEqual({tokens: [1, 2, 3, 4, 5, 6]});
    expect(c.calls[1]).toEqual({
      worker: 'b',
      body: {...BODY, tokenIds: [...PROMPT, 1, 2, 3], maxTokens: 3, minTokens: 1, resumed: {promptTokens: 4, generatedTokens: 3, maxTokens: 6, minTokens: 4}, kvTransfer: undefined},
    });
    // The failed worker is excluded and its booking released before the new route; the new attempt's first token is booked again.
    expect(c.excluded).toEqual([['a']]);
    expect(c.log).toEqual(['first', 'release', 'reroute 7', 'ongoing a→b', 'first']);
  });

  it('counts a failure before the first token as a new-request migration, and spends one budget over every move', async () => {
    const c = cluster({a: {tokens: [], ends: 'worker_gone'}, b: {tokens: [1], ends: 'engine_down'}, d: {tokens: [2, 3], ends: 'worker_draining'}, e: {tokens: [4], ends: 'worker_gone'}, f: {tokens: [5], ends: 'finish'}}, ['b', 'd', 'e', 'f']);
    expect(await run(c, {limit: 2})).toEqual({tokens: [1, 2, 3, 4], error: 'worker_gone'});
    // The failure before any token was free; the two mid-stream ones spent the budget of 2.
    expect(c.log.filter((l) => l.includes('→'))).toEqual(['new_request a→b', 'ongoing b→d', 'ongoing d→e']);
    expect(c.excluded).toEqual([['a'], ['a', 'b'], ['a', 'b', 'd']]);
  });

  it('sends a request that failed before its first token elsewhere, with no budget and migration off', async () => {
    const c = cluster({a: {tokens: [], ends: 'worker_draining'}, b: {tokens: [], ends: 'worker_unreachable'}, d: {tokens: [], ends: 'worker_gone'}, e: {tokens: [1, 2], ends: 'finish'}}, ['b', 'd', 'e']);
    expect(await run(c, {limit: 0})).toEqual({tokens: [1, 2]});
    expect(c.excluded).toEqual([['a'], ['a', 'b'], ['a', 'b', 'd']]);
    // Turned away after tokens of its own: that is a failure mid-stream, which migration must allow.
    const mid = cluster({a: {tokens: [1], ends: 'worker_draining'}, b: {tokens: [2], ends: 'finish'}}, ['b']);
    expect(await run(mid, {limit: 0})).toEqual({tokens: [1], error: 'worker_draining'});
  });

  it('never moves when off, for guided output, a cancelled request, or a failure of the request itself', async () => {
    const script = (ends: string) => cluster({a: {tokens: [1], ends}, b: {tokens: [2], ends: 'finish'}}, ['b']);
    expect(await run(script('worker_gone'), {limit: 0})).toEqual({tokens: [1], error: 'worker_gone'});
    expect(await run(script('worker_gone'), {limit: 3}, {guided: true})).toEqual({tokens: [1], error: 'worker_gone'});
    const aborted = new AbortController();
    aborted.abort();
    expect(await run(script('worker_gone'), {limit: 3}, {signal: aborted.signal})).toEqual({tokens: [1], error: 'worker_gone'});
    for (const kind of ['engine_error', 'invalid_request', 'cancelled']) expect(await run(script(kind), {limit: 3})).toEqual({tokens: [1], error: kind});
  });

  it('stops tracking once prompt + output passes the max sequence length (equal still moves)', async () => {
    const atLimit = cluster({a: {tokens: [1, 2], ends: 'worker_gone'}, b: {tokens: [3], ends: 'finish'}}, ['b']);
    expect(await run(atLimit, {limit: 3, maxSeqLen: 6})).toEqual({tokens: [1, 2, 3]});
    const past = cluster({a: {tokens: [1, 2, 3], ends: 'worker_gone'}, b: {tokens: [4], ends: 'finish'}}, ['b']);
    expect(await run(past, {limit: 3, maxSeqLen: 6})).toEqual({tokens: [1, 2, 3], error: 'worker_gone'});
    expect(past.log.filter((l) => l === 'max_seq_len')).toHaveLength(1);
  });

  it('gives up with the worker\'s own failure when no other worker is left', async () => {
    const c = cluster({a: {tokens: [1], ends: 'worker_gone'}}, []);
    expect(await run(c, {limit: 3})).toEqual({tokens: [1], error: 'worker_gone'});
    const busy = cluster({a: {tokens: [], ends: 'worker_busy'}}, []);
    expect(await run(busy, {limit: 0})).toEqual({tokens: [], error: 'worker_busy'});
  });
});
