/**
 * Request migration on the built binary: `dynamo up --workers 3 --migration-limit 3`, 18 streamed
 * completions through the official openai client, and `kill -9` of one worker while every stream
 * is mid-way. Every request completes, each streamed reply equals the same request's reply from an
 * undisturbed run (same seed), and the migration counter equals the streams that were on the
 * killed worker.
 */
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir} from './helpers/processes.js';

const MODEL = 'qwen3-0.6b';
const STREAMS = 18;
const MAX_TOKENS = 400;
const counter = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

describe('request migration: a worker killed under streaming load', () => {
  requireBinary();
  const home = tempDir();
  let up: Awaited<ReturnType<typeof startUntil>>;
  let client: OpenAI;
  let url: string;
  const env = {DYN_HOME: home};

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const args = ['up', '--model', MODEL, '--workers', '3', '--migration-limit', '3', '--router-mode', 'round-robin', '--port', String(port), '--name', 'migrate'];
    // Slowed down so that every stream is still going when the worker dies.
    up = await startUntil(args, /ready in/, {env: {...env, DYN_WORKERS_BASE_PORT: String(await freePortRange(6)), DYN_MOCKER_SPEEDUP_RATIO: '0.3'}, timeoutMs: 60_000});
    client = new OpenAI({baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0});
  });
  afterAll(async () => {
    up?.child.kill('SIGTERM');
    await up?.child;
  });

  /** One streamed completion: its text, the worker first chosen, and a promise of the first token. */
  function stream(i: number) {
    let firstSeen!: () => void;
    const first = new Promise<void>((r) => (firstSeen = r));
    const done = (async () => {
      const {data, response} = await client.completions
        .create({model: MODEL, prompt: `Request ${i}: tell a long story about caches.`, max_tokens: MAX_TOKENS, seed: i, stream: true, ignore_eos: true} as never)
        .withResponse();
      let text = '';
      for await (const chunk of data as unknown as AsyncIterable<OpenAI.Completion>) {
        text += chunk.choices[0]?.text ?? '';
        if (text) firstSeen();
      }
      return {text, worker: response.headers.get('x-dynamo-worker-id')!};
    })();
    return {first, done};
  }

  it('completes every request, each reply as if undisturbed, and counts one migration per stream on the killed worker', async () => {
    const undisturbed = await Promise.all(Array.from({length: STREAMS}, (_, i) => stream(i).done));

    const streams = Array.from({length: STREAMS}, (_, i) => stream(i));
    await Promise.all(streams.map((s) => s.first));
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; pid: number}[]}[];
    const victim = ps[0]!.processes.find((p) => p.id === 'agg-1')!;
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = Date.now();
    const results = await Promise.all(streams.map((s) => s.done));
    // Every stream was still going when the worker died.
    expect(Date.now() - killedAt).toBeGreaterThan(500);

    for (const [i, r] of results.entries()) expect(r.text, `request ${i}`).toBe(undisturbed[i]!.text);
    const onVictim = results.filter((r) => r.worker === 'agg-1').length;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const migrated = counter(metrics, 'dynamo_frontend_model_migration_total');
    process.stdout.write(`migration: ${STREAMS} streams, ${onVictim} on the killed worker, ${migrated} migrated, ${results.length} completed\n`);
    expect(onVictim).toBeGreaterThan(0);
    expect(migrated).toBe(onVictim);
    expect(metrics).toMatch(/^dynamo_frontend_model_migration_total\{[^}]*migration_type="ongoing"[^}]*\} \d+$/m);
    expect(counter(metrics, 'dynamo_frontend_requests_total')).toBeGreaterThanOrEqual(2 * STREAMS);
  }, 120_000);
});
