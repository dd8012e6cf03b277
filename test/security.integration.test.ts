/**
 * The deployment's two doors, on the built binary:
 * - the frontend over HTTPS (`--tls-cert`, `--tls-key`, a self-signed certificate made here) with
 *   an API key, through the official openai client trusting that certificate; plain HTTP and an
 *   untrusting client are refused;
 * - the request plane: a worker serves only connections that present the run's token (kept in the
 *   run directory, mode 0600), so another process cannot inject requests or read KV events.
 */
import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {WorkerConnection} from '../src/runtime/request-plane/client.js';
import {dynamo, startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir} from './helpers/processes.js';
import {fetchTrusting, selfSignedCert} from './helpers/tls.js';

const MODEL = 'qwen3-0.6b';

describe('TLS on the frontend and the request-plane token', () => {
  requireBinary();
  const home = tempDir();
  const env = {DYN_HOME: home};
  let up: Awaited<ReturnType<typeof startUntil>>;
  let port: number;
  let tls: ReturnType<typeof selfSignedCert>;

  beforeAll(async () => {
    tls = selfSignedCert();
    port = await freePort();
    const args = ['up', '--model', MODEL, '--workers', '1', '--port', String(port), '--name', 'secure', '--tls-cert', tls.cert, '--tls-key', tls.key, '--api-key', 'sk-test'];
    up = await startUntil(args, /ready in/, {env: {...env, DYN_WORKERS_BASE_PORT: String(await freePortRange(2))}, timeoutMs: 60_000});
  });
  afterAll(async () => {
    up?.child.kill('SIGTERM');
    await up?.child;
  });

  it('serves HTTPS to a client that trusts the certificate, and nothing to plain HTTP or an untrusting client', async () => {
    expect(up.output()).toContain(`https://127.0.0.1:${port}`);
    const client = new OpenAI({baseURL: `https://127.0.0.1:${port}/v1`, apiKey: 'sk-test', maxRetries: 0, fetch: fetchTrusting(tls.pem)});
    const r = await client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'hello over TLS'}], max_tokens: 8});
    expect(r.choices[0]!.message.content!.length).toBeGreaterThan(0);
    const stream = await client.completions.create({model: MODEL, prompt: 'stream over TLS', max_tokens: 8, stream: true});
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(0);
    await expect(new OpenAI({baseURL: `https://127.0.0.1:${port}/v1`, apiKey: 'wrong', maxRetries: 0, fetch: fetchTrusting(tls.pem)}).models.list()).rejects.toMatchObject({status: 401});
    // The system's CAs do not know a self-signed certificate; plain HTTP is not spoken on this port.
    await expect(new OpenAI({baseURL: `https://127.0.0.1:${port}/v1`, apiKey: 'sk-test', maxRetries: 0}).models.list()).rejects.toThrow(/Connection error/);
    await expect(fetch(`http://127.0.0.1:${port}/v1/models`)).rejects.toThrow();
  });

  it('refuses a request-plane connection without the run\'s token, and serves one with it', async () => {
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; ports: Record<string, number>}[]}[];
    const rpc = ps[0]!.processes.find((p) => p.id === 'agg-0')!.ports.rpc!;
    const tokenFile = join(home, 'runs', 'secure', 'request-plane.token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8');
    const ask = async (conn: WorkerConnection, body: unknown) => {
      try {
        for await (const _ of conn.call(body)) return 'served';
        return 'served';
      } catch (e) {
        return (e as {kind: string}).kind;
      } finally {
        conn.close();
      }
    };
    const generate = {requestId: 'outsider', tokenIds: [1, 2, 3, 4], maxTokens: 2};
    expect(await ask(new WorkerConnection('127.0.0.1', rpc), generate)).toBe('unauthorized');
    expect(await ask(new WorkerConnection('127.0.0.1', rpc), {kind: 'kv_events'})).toBe('unauthorized');
    expect(await ask(new WorkerConnection('127.0.0.1', rpc, {token: 'not-the-token'}), generate)).toBe('worker_gone');
    expect(await ask(new WorkerConnection('127.0.0.1', rpc, {token}), generate)).toBe('served');
  });
});
