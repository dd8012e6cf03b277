import {describe, expect, it} from 'vitest';
import {ServeError} from './errors.js';
import type {GenerationEvent} from './generate.js';
import {frontendMetrics} from './metrics.js';
import {type MetricsClock, RequestMetrics} from './request-metrics.js';

/** A clock the test moves by hand: wall and monotonic time advance together. */
function manualClock(startWall: number) {
  let t = 0;
  const clock: MetricsClock = {wallMs: () => startWall + t, monoMs: () => t};
  return {clock, advance: (ms: number) => (t += ms)};
}

const model = {model: 'm'};
const arrivedAt = 1_000_000;

describe('RequestMetrics', () => {
  it("a streamed request: in flight, routed, engine TTFT and the client's TTFT from arrival, ITL per token, usage, one success", async () => {
    const m = frontendMetrics();
    const {clock, advance} = manualClock(arrivedAt);
    const obs = new RequestMetrics(m, {model: 'm', endpoint: 'chat_completions', arrivedAt}, clock);
    obs.admitted();
    obs.respondsAs(true);
    expect(m.inflight.get(model)).toBe(1);
    advance(10);
    await obs.routing('kv', async () => {
      advance(3); // 2 ms of it parked in the router queue
      return {workerId: 'w1', overlapBlocks: 4, queuedMs: 2};
    });
    expect(m.queued.get(model)).toBe(1);
    expect(m.routerOverheadMs.snapshot({router_mode: 'kv'})).toEqual({count: 1, sum: 1});
    expect(m.routerDecisions.get({router_mode: 'kv', worker_id: 'w1'})).toBe(1);
    expect(m.routerOverlapBlocks.snapshot({worker_id: 'w1'})).toEqual({count: 1, sum: 4});

    async function* events(): AsyncGenerator<GenerationEvent> {
      advance(200);
      yield {kind: 'text', text: 'Hel', tokens: 1};
      // A parser held the first token back: the client sees its first token 15 ms later.
      advance(15);
      obs.firstVisibleToken();
      advance(25);
      obs.firstVisibleToken(); // only the first counts
      yield {kind: 'text', text: 'lo there', tokens: 2};
      yield {kind: 'text', text: '', tokens: 0};
      yield {kind: 'finish', reason: 'stop', usage: {promptTokens: 12, completionTokens: 3, cachedTokens: 8}};
    }
    for await (const ev of events()) obs.observe(ev);
    obs.succeeded();
    obs.settled();
    advance(5);
    obs.ended();

    expect(m.queued.get(model)).toBe(0);
    expect(m.engineTtft.snapshot(model)).toEqual({count: 1, sum: 0.213});
    expect(m.ttft.snapshot(model)).toEqual({count: 1, sum: 0.228});
    expect(m.itl.snapshot(model)).toEqual({count: 1, sum: 0.02});
    expect(m.outputTokensTotal.get(model)).toBe(3);
    expect(m.inputTokens.snapshot(model)).toEqual({count: 1, sum: 12});
    expect(m.outputTokens.snapshot(model)).toEqual({count: 1, sum: 3});
    expect(m.cachedTokens.snapshot(model)).toEqual({count: 1, sum: 8});
    expect(m.routerPromptTokens.get({worker_id: 'w1'})).toBe(12);
    expect(m.routerCachedTokens.get({worker_id: 'w1'})).toBe(8);
    expect(m.inflight.get(model)).toBe(0);
    expect(m.duration.snapshot(model)).toEqual({count: 1, sum: 0.258});
    expect(m.registry.render()).toContain(
      'dynamo_frontend_requests_total{endpoint="chat_completions",error_type="",model="m",request_type="stream",status="success"} 1',
    );
  });

  it('a client that leaves before the first token: counted as disconnected and cancelled, no longer queued', async () => {
    const m = frontendMetrics();
    const obs = new RequestMetrics(m, {model: 'm', endpoint: 'completions', arrivedAt}, manualClock(arrivedAt).clock);
    obs.admitted();
    obs.respondsAs(false);
    await obs.routing('round-robin', async () => ({workerId: 'w2', queuedMs: 0}));
    obs.disconnected();
    obs.failed(new ServeError('cancelled', 'client disconnected'));
    obs.settled();
    obs.ended();
    expect(m.disconnected.get(model)).toBe(1);
    expect(m.queued.get(model)).toBe(0);
    expect(m.ttft.snapshot(model).count).toBe(0);
    expect(m.routerOverlapBlocks.snapshot({worker_id: 'w2'}).count).toBe(0);
    expect(m.requests.get({model: 'm', endpoint: 'completions', request_type: 'unary', status: 'error', error_type: 'cancelled'})).toBe(1);
  });

  it('a request refused before generating counts as request_type unknown and never as queued', () => {
    const m = frontendMetrics();
    const obs = new RequestMetrics(m, {model: 'm', endpoint: 'chat_completions', arrivedAt}, manualClock(arrivedAt).clock);
    obs.admitted();
    obs.rejected(new ServeError('no_worker', 'no worker'));
    obs.ended();
    expect(m.requests.get({model: 'm', endpoint: 'chat_completions', request_type: 'unknown', status: 'error', error_type: 'overload'})).toBe(1);
    expect(m.queued.get(model)).toBe(0);
    expect(m.inflight.get(model)).toBe(0);
  });
});
