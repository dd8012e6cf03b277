import type {Server} from 'node:http';
import {afterEach, describe, expect, it} from 'vitest';
import {PROMETHEUS_CONTENT_TYPE} from '../metrics/prometheus.js';
import {serveWorkerStatus} from './status-server.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe("the worker's status port", () => {
  it('answers /health 200 while ready and 503 while draining, /metrics as Prometheus text, anything else 404', async () => {
    let draining = false;
    let scrapes = 0;
    const server = await serveWorkerStatus({
      host: '127.0.0.1',
      port: 0,
      health: () => ({status: draining ? 'draining' : 'ready', workerId: 'agg-0', inFlight: 2, kvUsage: 0.25, kvEventId: 41}),
      metrics: () => `vllm:num_requests_running 2\n# scrape ${++scrapes}\n`,
    });
    servers.push(server);
    const url = (path: string) => `http://127.0.0.1:${(server.address() as {port: number}).port}${path}`;

    const ready = await fetch(url('/health'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({status: 'ready', worker: 'agg-0', in_flight: 2, kv_usage: 0.25, kv_event_id: 41, memory: {rss_mb: expect.any(Number), heap_used_mb: expect.any(Number)}});
    draining = true;
    const leaving = await fetch(url('/health'));
    expect(leaving.status).toBe(503);
    expect(await leaving.json()).toMatchObject({status: 'draining'});

    // Every scrape renders afresh.
    const metrics = await fetch(url('/metrics'));
    expect(metrics.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await metrics.text()).toBe('vllm:num_requests_running 2\n# scrape 1\n');
    expect(await (await fetch(url('/metrics'))).text()).toContain('# scrape 2');

    const missing = await fetch(url('/nope'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({error: 'not found'});
  });
});
