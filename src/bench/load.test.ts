import {afterEach, describe, expect, it, vi} from 'vitest';
import {type Target, streamChat} from './client.js';
import {type RunOptions, runLoad} from './load.js';
import {type SseServer, type SseServerOptions, startSseServer} from './sse-server.js';
import {promptsWorkload, syntheticWorkload, traceWorkload} from './workload.js';
import {profileSchema} from './profile.js';

let server: SseServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const target = (url: string, extra: Partial<Target> = {}): Target => ({baseUrl: url, model: 'test-model', endpoint: 'chat', ignoreEos: true, extraBody: {}, timeoutMs: 10_000, ...extra});
const WORDS = [' alpha', ' beta', ' gamma', ' delta'];
const synthetic = (w: Record<string, unknown> = {}) => syntheticWorkload(profileSchema.parse({workload: {isl: 8, osl: 4, ...w}}).workload, WORDS, 1);

async function run(opts: SseServerOptions, o: Partial<RunOptions> & Pick<RunOptions, 'point'>, t: Partial<Target> = {}) {
  server = await startSseServer(opts);
  const tg = target(server.url, t);
  return runLoad({workload: synthetic(), graceMs: 1000, arrival: {kind: 'constant'}, seed: 1, send: (m, n, c) => streamChat(tg, m, n, c), ...o});
}

describe('streaming client', () => {
  it('timestamps every chunk on the monotonic clock and reads usage', async () => {
    server = await startSseServer({tokenMs: 2});
    const r = await streamChat(target(server.url), [{role: 'user', content: 'hi'}], 5);
    expect(r.error).toBeUndefined();
    expect(r.text).toBe(' w0 w1 w2 w3 w4');
    const withText = r.chunks.filter((c) => c.text);
    expect(withText).toHaveLength(5);
    for (let i = 1; i < withText.length; i++) expect(withText[i]!.at).toBeGreaterThanOrEqual(withText[i - 1]!.at);
    expect(withText[0]!.at).toBeGreaterThan(r.start);
    expect(r.usage).toEqual({promptTokens: 10, completionTokens: 5});
  });

  it('sends max_tokens, ignore_eos and min_tokens, and a prompt string on the completions endpoint', async () => {
    const bodies: Record<string, any>[] = [];
    server = await startSseServer({onRequest: (b) => void bodies.push(b)});
    await streamChat(target(server.url), [{role: 'user', content: 'hi'}], 3);
    const c = await streamChat(target(server.url, {endpoint: 'completions', ignoreEos: false}), [{role: 'user', content: 'hi there'}], 2);
    expect(bodies[0]).toMatchObject({model: 'test-model', messages: [{role: 'user', content: 'hi'}], max_tokens: 3, stream: true, ignore_eos: true, min_tokens: 3});
    expect(bodies[1]).toMatchObject({prompt: 'hi there', max_tokens: 2});
    expect(bodies[1]!.ignore_eos).toBeUndefined();
    expect(c.text).toBe(' w0 w1');
  });

  it('reads events with CRLF line ends, split anywhere across reads, and multi-line data', async () => {
    const {createServer} = await import('node:http');
    const srv = createServer(async (_req, res) => {
      res.writeHead(200, {'content-type': 'text/event-stream'});
      const wire = 'data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\ndata: {"choices":[{"delta":\r\ndata: {"content":"b"}}]}\r\n\r\ndata: [DONE]\r\n\r\n';
      for (const piece of wire.match(/[\s\S]{1,7}/g)!) {
        res.write(piece);
        await new Promise((r) => setTimeout(r, 1));
      }
      res.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const r = await streamChat(target(`http://127.0.0.1:${(srv.address() as {port: number}).port}/v1`), [{role: 'user', content: 'x'}], 2);
    srv.close();
    expect(r.error).toBeUndefined();
    expect(r.text).toBe('ab');
  });

  it('never throws: every failure is a record with its kind', async () => {
    const faults = ['http_500', 'hang', 'cut', 'stream_error', 'bad_json'] as const;
    server = await startSseServer({fault: (b) => b.messages[0].content});
    const kinds: Record<string, string | undefined> = {};
    for (const f of faults) {
      const r = await streamChat(target(server.url, {timeoutMs: 300}), [{role: 'user', content: f}], 4);
      kinds[f] = r.error?.kind;
    }
    expect(kinds).toEqual({http_500: 'http_500', hang: 'timeout', cut: 'incomplete_stream', stream_error: 'stream_error', bad_json: 'bad_chunk'});
    const url = server.url;
    await server.close();
    server = undefined;
    expect((await streamChat(target(url), [{role: 'user', content: 'x'}], 1)).error?.kind).toBe('connection');
  });
});

describe('load modes', () => {
  it('closed loop keeps exactly N requests in flight and sends the request count', async () => {
    const r = await run({tokenMs: 3}, {point: {mode: 'concurrency', concurrency: 3}, requestCount: 12});
    expect(r.records).toHaveLength(12);
    expect(r.records.every((x) => !x.response.error)).toBe(true);
    expect(server!.maxInflight()).toBe(3);
    expect(r.records.every((x) => x.lagMs === undefined)).toBe(true);
  });

  it('open loop sends on schedule whatever the server does, and records the lag of each send', async () => {
    const r = await run({firstTokenMs: 100}, {point: {mode: 'rate', requestRate: 200}, requestCount: 20});
    expect(r.records).toHaveLength(20);
    const sched = r.records.map((x) => x.scheduledMs!).sort((a, b) => a - b);
    for (const [i, s] of sched.entries()) expect(s).toBeCloseTo(i * 5, 6); // constant arrivals at 200/s
    expect(r.records.every((x) => x.lagMs! >= 0)).toBe(true);
    // Replies take 100 ms but sends are 5 ms apart: the server saw many at once (not a closed loop).
    expect(server!.maxInflight()).toBeGreaterThan(5);
  });

  it('a concurrency ceiling caps an open loop', async () => {
    await run({tokenMs: 5}, {point: {mode: 'rate', requestRate: 1000, concurrency: 2}, requestCount: 10});
    expect(server!.maxInflight()).toBe(2);
  });

  it('a trace schedule sends equal timestamps together', async () => {
    // The server holds every reply until the three requests of the burst have all arrived:
    // sending them one after another would never finish.
    let arrived = 0;
    let release!: () => void;
    const burst = new Promise<void>((r) => (release = r));
    const trace = [0, 0, 0, 30].map((t) => ({arrivalMs: 1000 + t, inputLength: 4, outputLength: 2, hashIds: [t]}));
    const r = await run(
      {
        onRequest: async () => {
          if (++arrived === 3) release();
          if (arrived <= 3) await burst;
        },
      },
      {point: {mode: 'schedule', speedup: 1}, workload: traceWorkload(trace, 4, WORDS, 't.jsonl')},
    );
    expect(r.records).toHaveLength(4);
    expect(r.records.every((x) => !x.response.error)).toBe(true);
    expect(r.records.map((x) => x.scheduledMs).sort((a, b) => a! - b!)).toEqual([0, 0, 0, 30]);
  });

  it('multi-turn sessions carry the conversation and wait the think time', async () => {
    const bodies: Record<string, any>[] = [];
    server = await startSseServer({onRequest: (b) => void bodies.push(b)});
    const tg = target(server.url);
    const r = await runLoad({
      point: {mode: 'concurrency', concurrency: 1},
      workload: synthetic({sessionTurns: 3, thinkTimeMs: 20}),
      requestCount: 3,
      graceMs: 0,
      arrival: {kind: 'constant'},
      seed: 1,
      send: (m, n, c) => streamChat(tg, m, n, c),
    });
    expect(r.records.map((x) => [x.session, x.turn])).toEqual([[0, 0], [0, 1], [0, 2]]);
    expect(bodies[1]!.messages.map((m: {role: string}) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(bodies[1]!.messages[1].content).toBe(' w0 w1 w2 w3');
    expect(bodies[2]!.messages).toHaveLength(5);
    const gap = r.records[1]!.response.start - (r.records[0]!.response.chunks.at(-1)!.at);
    expect(gap).toBeGreaterThanOrEqual(19);
  });

  it('a duration run stops sending at the deadline and cancels what outlives the grace period', async () => {
    const r = await run({fault: () => 'hang'}, {point: {mode: 'concurrency', concurrency: 2}, durationMs: 100, graceMs: 50});
    expect(r.records).toHaveLength(2);
    expect(r.records.map((x) => x.response.error?.kind)).toEqual(['cancelled', 'cancelled']);
    await vi.waitFor(() => expect(server!.inflight()).toBe(0)); // the server sees the connections close
  });

  it('stopping (Ctrl-C) ends the run at once, cancelling requests in flight', async () => {
    const stop = new AbortController();
    // Ctrl-C once all four lanes have a request hanging on the server.
    const seen: unknown[] = [];
    const r = await run(
      {fault: () => 'hang', onRequest: (b) => void (seen.push(b) === 4 && setImmediate(() => stop.abort()))},
      {point: {mode: 'concurrency', concurrency: 4}, requestCount: 100, stop: stop.signal},
    );
    expect(r.interrupted).toBe(true);
    expect(r.records).toHaveLength(4);
    expect(r.records.every((x) => x.response.error?.kind === 'cancelled')).toBe(true);
  });

  it('prompt files cycle when the run asks for more requests than lines', async () => {
    const w = promptsWorkload('{"messages":[{"role":"user","content":"a"}]}\n{"prompt":"b","max_tokens":2}\n', 'p.jsonl', 3);
    server = await startSseServer();
    const tg = target(server.url);
    const r = await runLoad({point: {mode: 'concurrency', concurrency: 1}, workload: w, requestCount: 3, graceMs: 0, arrival: {kind: 'constant'}, seed: 0, send: (m, n, c) => streamChat(tg, m, n, c)});
    expect(r.records.map((x) => [x.messages.at(-1)!.content, x.maxTokens])).toEqual([['a', 3], ['b', 2], ['a', 3]]);
  });
});
