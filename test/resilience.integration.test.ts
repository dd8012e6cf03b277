/**
 * Faults under load on the built binary, through the official openai client:
 * - `kill -9` of the frontend: it is back within seconds, no worker restarts, and its router knows
 *   the workers' caches again before it takes traffic (a prefix cached before the crash is routed
 *   to and served from cache after it).
 * - `dynamo restart` (rolling, every worker in turn, each drained first): no request fails.
 * - `dynamo down` under load: every request completes or gets a clean error, none hangs.
 */
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

const MODEL = 'qwen3-0.6b';
const DOC = `Document. ${Array.from({length: 300}, (_, k) => 'cache router prefix worker token block'.split(' ')[k % 6]).join(' ')}`;

interface Proc {
  id: string;
  pid: number;
  status: string;
  restarts: number;
}

describe('resilience under load', () => {
  requireBinary();
  const home = tempDir();
  const env = {DYN_HOME: home};
  let up: Awaited<ReturnType<typeof startUntil>>;
  let client: OpenAI;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    up = await startUntil(['up', '--model', MODEL, '--workers', '2', '--port', String(port), '--name', 'resilient'], /ready in/, {env: {...env, DYN_WORKERS_BASE_PORT: String(await freePortRange(4))}, timeoutMs: 60_000});
    client = new OpenAI({baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0});
  });
  afterAll(async () => {
    up?.child.kill('SIGTERM');
    await up?.child;
  });

  const processes = async () => (JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: Proc[]}[])[0]!.processes;

  /** Requests one after another until stopped; counts what succeeded and what failed. */
  function load(prompt: (i: number) => string) {
    let stop = false;
    const tally = {ok: 0, failed: 0};
    const done = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await client.completions.create({model: MODEL, prompt: prompt(i), max_tokens: 8});
          tally.ok++;
        } catch {
          tally.failed++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    return {
      tally,
      async stop() {
        stop = true;
        await done;
      },
    };
  }

  it('kill -9 of the frontend: back within seconds, no worker restarts, cached prefixes still routed to', async () => {
    const before = await client.completions.create({model: MODEL, prompt: DOC, max_tokens: 4}).withResponse();
    const cachedOn = before.response.headers.get('x-dynamo-worker-id')!;
    const workersBefore = (await processes()).filter((p) => p.id.startsWith('agg-'));

    const background = load((i) => `background ${i}`);
    await until(async () => background.tally.ok > 3, 10_000, 'load to flow');
    const frontend = (await processes()).find((p) => p.id === 'frontend')!;
    const killedAt = Date.now();
    process.kill(frontend.pid, 'SIGKILL');
    await until(async () => (await processes()).some((p) => p.id === 'frontend' && p.status === 'ready' && p.pid !== frontend.pid), 30_000, 'the frontend to come back');
    const backInMs = Date.now() - killedAt;

    // The first request after it returns: routed to the worker holding the prefix, served from its cache.
    const after = await client.completions.create({model: MODEL, prompt: DOC, max_tokens: 4}).withResponse();
    const okBefore = background.tally.ok;
    await until(async () => background.tally.ok > okBefore + 3, 10_000, 'load to flow again');
    await background.stop();
    const overlap = Number(after.response.headers.get('x-dynamo-overlap-blocks'));
    const cached = after.data.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    process.stdout.write(`frontend kill -9: back in ${backInMs} ms; after it, ${overlap} blocks expected cached on ${after.response.headers.get('x-dynamo-worker-id')}, ${cached} tokens served from cache; load ${background.tally.ok} ok, ${background.tally.failed} failed (in flight or refused while it was down)\n`);
    expect(backInMs).toBeLessThan(15_000);
    expect(after.response.headers.get('x-dynamo-worker-id')).toBe(cachedOn);
    expect(overlap).toBeGreaterThan(0);
    expect(cached).toBeGreaterThan(0);
    const workersAfter = (await processes()).filter((p) => p.id.startsWith('agg-'));
    expect(workersAfter.map((p) => [p.id, p.pid, p.restarts])).toEqual(workersBefore.map((p) => [p.id, p.pid, 0]));
    expect((await processes()).find((p) => p.id === 'frontend')!.restarts).toBe(1);
  }, 120_000);

  /** Streams with some length to them, several at once, until stopped; every failure is kept. */
  function streamingLoad(concurrency: number) {
    let stop = false;
    const tally = {ok: 0, failures: [] as string[]};
    const one = async (i: number) => {
      const s = await client.completions.create({model: MODEL, prompt: `stream ${i} ${DOC.slice(0, 200)}`, max_tokens: 40, stream: true, seed: i});
      let text = '';
      for await (const c of s) text += c.choices[0]?.text ?? '';
      if (!text) throw new Error('empty reply');
    };
    const lanes = Array.from({length: concurrency}, async (_, lane) => {
      for (let i = lane; !stop; i += concurrency) {
        try {
          await one(i);
          tally.ok++;
        } catch (e) {
          tally.failures.push((e as Error).message);
        }
      }
    });
    return {
      tally,
      async stop() {
        stop = true;
        await Promise.all(lanes);
      },
    };
  }

  it('dynamo restart: every worker restarted in turn under streaming load, and no request fails', async () => {
    const before = (await processes()).filter((p) => p.id.startsWith('agg-'));
    const traffic = streamingLoad(6);
    await until(async () => traffic.tally.ok > 10, 15_000, 'load to flow');
    const r = await dynamo(['restart', 'resilient'], {env, timeout: 120_000});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/agg-0 restarted and ready in/);
    expect(r.stderr).toMatch(/agg-1 restarted and ready in/);
    const okAtRestart = traffic.tally.ok;
    await until(async () => traffic.tally.ok > okAtRestart + 10, 15_000, 'load to flow after the restart');
    await traffic.stop();
    process.stdout.write(`rolling restart under load: ${traffic.tally.ok} requests completed, ${traffic.tally.failures.length} failed${traffic.tally.failures.length ? `: ${[...new Set(traffic.tally.failures)].join(' | ')}` : ''}\n`);
    expect(traffic.tally.failures).toEqual([]);
    const after = (await processes()).filter((p) => p.id.startsWith('agg-'));
    // New processes, not crash restarts.
    for (const [i, p] of after.entries()) {
      expect(p.pid).not.toBe(before[i]!.pid);
      expect(p.restarts).toBe(before[i]!.restarts);
    }
    // A role that is not there is refused, naming the choices.
    const bad = await dynamo(['restart', 'resilient', 'decode'], {env});
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('resilient has no decode process to restart');
  }, 180_000);

  it('dynamo down under load: every request completes or gets a clean error, none hangs', async () => {
    const traffic = streamingLoad(6);
    await until(async () => traffic.tally.ok > 5, 15_000, 'load to flow');
    const down = await dynamo(['down', 'resilient'], {env, timeout: 60_000});
    expect(down.exitCode).toBe(0);
    // Every lane ends: a request that hung would keep its lane (and this test) waiting.
    const settled = await Promise.race([traffic.stop().then(() => true), new Promise((r) => setTimeout(() => r(false), 20_000))]);
    expect(settled).toBe(true);
    process.stdout.write(`down under load: ${traffic.tally.ok} completed, ${traffic.tally.failures.length} ended with an error: ${[...new Set(traffic.tally.failures)].join(' | ')}\n`);
    for (const f of traffic.tally.failures) expect(f).toMatch(/Connection error|shutting down|ECONNREFUSED|503/);
    await up.child;
  }, 120_000);
});
