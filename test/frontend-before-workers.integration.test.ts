/**
 * `dynamo frontend` started by hand before any worker registers (an empty discovery store), on the
 * built binary: it listens at once, answers /health with no workers and a request with a clear
 * 503, stays up past the 5 s it once waited for a first view (it used to exit 0 there, silently),
 * and picks up a worker that registers later.
 */
import {afterAll, describe, expect, it} from 'vitest';
import {startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

const MODEL = 'qwen3-0.6b';

describe('a frontend with no worker yet', () => {
  requireBinary();
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it('listens, says there is no worker, keeps running, and serves once a worker registers', async () => {
    const home = tempDir();
    const store = tempDir('dyn-discovery-');
    const port = await freePort();
    const env = {DYN_HOME: home};
    const startedAt = Date.now();
    const frontend = await startUntil(['frontend', '-m', MODEL, '--port', String(port), '--discovery-dir', store], /frontend ready/, {env, timeoutMs: 30_000});
    stops.push(async () => {
      frontend.child.kill('SIGTERM');
      await frontend.child;
    });
    const url = `http://127.0.0.1:${port}`;
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as {workers: unknown[]}).workers).toEqual([]);
    const ask = () => fetch(`${url}/v1/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({model: MODEL, prompt: 'Hello', max_tokens: 4})});
    const refused = await ask();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as {error: {message: string}}).error.message).toBe(`no worker is serving ${MODEL} right now; retry shortly`);

    // The old frontend exited 0 within 5 s of starting; this one is still there a second after that.
    const window = startedAt + 6000 - Date.now();
    const exited = await Promise.race([frontend.child.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), Math.max(0, window)))]);
    expect(exited, `the frontend exited; output:\n${frontend.output()}`).toBe(false);

    const base = await freePortRange(2);
    const worker = await startUntil(['worker', '-m', MODEL, '--worker-id', 'late-0', '--rpc-port', String(base), '--metrics-port', String(base + 1), '--discovery-dir', store, '--speedup-ratio', '0'], /worker late-0 .* ready/, {env, timeoutMs: 30_000});
    stops.push(async () => {
      worker.child.kill('SIGTERM');
      await worker.child;
    });
    await until(async () => ((await (await fetch(`${url}/health`)).json()) as {workers: {id: string}[]}).workers.some((w) => w.id === 'late-0'), 10_000, 'the frontend to see the worker');
    const served = await ask();
    expect(served.status).toBe(200);
    expect(served.headers.get('x-dynamo-worker-id')).toBe('late-0');

    for (const s of stops.splice(0).reverse()) await s();
    expect((await frontend.child).exitCode).toBe(0);
  }, 90_000);
});
