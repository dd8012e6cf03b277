/** A small closed-loop HTTP load generator for bench:frontend: N lanes, keep-alive, whole-response latency. */
import {Agent, request} from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

export function post(agent: Agent, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path, method: 'POST', agent, headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}}, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Latencies of requests, and how many did not answer 200. */
interface Timings {
  latenciesMs: number[];
  errors: number;
}

/** Sends one body and notes how long the whole response took, and whether it failed. */
async function timedPost(agent: Agent, port: number, path: string, body: string, into: Timings): Promise<void> {
  const s = performance.now();
  const status = await post(agent, port, path, body).catch(() => 0);
  if (status !== 200) into.errors++;
  into.latenciesMs.push(performance.now() - s);
}

/** Runs `lanes` sequences of request bodies concurrently; each lane sends its bodies in order. */
export async function runLanes(port: number, path: string, lanes: string[][]): Promise<LoadResult> {
  const agent = new Agent({keepAlive: true, maxSockets: lanes.length});
  const t: Timings = {latenciesMs: [], errors: 0};
  const t0 = performance.now();
  await Promise.all(
    lanes.map(async (bodies) => {
      for (const b of bodies) await timedPost(agent, port, path, b, t);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return {requests: t.latenciesMs.length, errors: t.errors, seconds, latenciesMs: t.latenciesMs};
}

/**
 * One request at a time to each of several servers, interleaved in blocks of `block` requests (the
 * servers' order rotating block by block), each server on one kept-alive connection throughout:
 * whatever the machine does at a given minute then falls on every server alike, where one server's
 * whole run after another's could meet a quiet minute and the next a busy one. Every server gets
 * the same bodies in the same order (a conversation's turns stay in order).
 */
export async function interleavedSerial(ports: number[], path: string, bodies: string[], block = 100): Promise<Timings[]> {
  const agents = ports.map(() => new Agent({keepAlive: true, maxSockets: 1}));
  const out = ports.map((): Timings => ({latenciesMs: [], errors: 0}));
  for (let b = 0; b * block < bodies.length; b++) {
    const chunk = bodies.slice(b * block, (b + 1) * block);
    for (let k = 0; k < ports.length; k++) {
      const i = (b + k) % ports.length;
      for (const body of chunk) await timedPost(agents[i]!, ports[i]!, path, body, out[i]!);
    }
  }
  for (const a of agents) a.destroy();
  return out;
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}
