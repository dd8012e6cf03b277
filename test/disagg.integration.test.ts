/**
 * Disaggregated serving end to end on the built binary: `dynamo up --disagg` (1 prefill, 2 decode
 * workers) against an aggregated deployment, the same requests through the official openai client.
 * For the same seed every reply is identical; prefills run on the prefill worker and the decode
 * workers pull the blocks (metrics); after the load every block is back (nothing active, no lease);
 * a hand-off nobody pulls is released when its lease runs out. The same replies again with the KV
 * blocks in UCX's memory and in GPU memory (the stand-in CUDA driver, test/fixtures/fake-libcuda.c).
 */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {WorkerConnection} from '../src/runtime/request-plane/client.js';
import type {GenerateChunk, KvTransferParams} from '../src/worker/protocol.js';
import {dynamo, startUntil} from './helpers/cli.js';
import {fakeLibcuda} from './helpers/fake-cuda.js';
import {freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

const MODEL = 'llama-3.1-8b';
const WORDS = 'prefill decode block lease pull verify hash token cache worker'.split(' ');
/** 24 prompts in 4 groups sharing a ~600-token document, each with its own question. */
const PROMPTS = Array.from({length: 24}, (_, i) => {
  const g = i % 4;
  return `Document ${g}. ${Array.from({length: 600}, (_, k) => WORDS[(g * 3 + k * 7) % WORDS.length]).join(' ')}\nQuestion ${i}?`;
});

type Health = {kv_blocks: {total: number; free: number; active: number; inactive: number; leases?: number}};

interface Deployment {
  client: OpenAI;
  env: Record<string, string>;
  stop(): Promise<void>;
  health(role: string): Promise<Health[]>;
  metrics(id: string): Promise<string>;
}

async function deploy(name: string, args: string[], env: Record<string, string> = {}): Promise<Deployment> {
  const port = await freePort();
  const home = tempDir();
  const allEnv = {DYN_HOME: home, DYN_WORKERS_BASE_PORT: String(await freePortRange(8)), ...env};
  const up = await startUntil(['up', '--model', MODEL, '--port', String(port), '--name', name, ...args], /ready in/, {env: allEnv, timeoutMs: 60_000});
  const processes = async () => {
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env: allEnv})).stdout) as {processes: {id: string; ports?: {metrics?: number}}[]}[];
    return ps[0]!.processes;
  };
  const portOf = async (id: string) => (await processes()).find((p) => p.id === id)!.ports!.metrics!;
  return {
    client: new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0}),
    env: allEnv,
    async stop() {
      up.child.kill('SIGTERM');
      await up.child;
    },
    async health(role) {
      const ids = (await processes()).map((p) => p.id).filter((id) => id.startsWith(`${role}-`));
      return Promise.all(ids.map(async (id) => (await (await fetch(`http://127.0.0.1:${await portOf(id)}/health`)).json()) as Health));
    },
    async metrics(id) {
      return (await fetch(`http://127.0.0.1:${await portOf(id)}/metrics`)).text();
    },
  };
}

/** Every reply's text, in prompt order: half streamed, half not; two at a time. */
async function replies(client: OpenAI): Promise<{texts: string[]; prefillWorkers: (string | null)[]}> {
  const texts: string[] = [];
  const prefillWorkers: (string | null)[] = [];
  for (let i = 0; i < PROMPTS.length; i += 2) {
    await Promise.all(
      [i, i + 1].map(async (k) => {
        const params = {model: MODEL, prompt: PROMPTS[k]!, max_tokens: 12, seed: 1000 + k};
        if (k % 2) {
          const {data, response} = await client.completions.create({...params, stream: true}).withResponse();
          let text = '';
          for await (const c of data) text += c.choices[0]?.text ?? '';
          texts[k] = text;
          prefillWorkers[k] = response.headers.get('x-dynamo-prefill-worker-id');
        } else {
          const {data, response} = await client.completions.create(params).withResponse();
          texts[k] = data.choices[0]!.text;
          prefillWorkers[k] = response.headers.get('x-dynamo-prefill-worker-id');
        }
      }),
    );
  }
  return {texts, prefillWorkers};
}

const counter = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

describe('disaggregated serving (dynamo up --disagg)', () => {
  requireBinary();
  let disagg: Deployment;
  let agg: Deployment;

  beforeAll(async () => {
    // Every prompt prefills remotely (no local threshold), and a hand-off nobody pulls expires fast.
    disagg = await deploy('dg', ['--disagg', '--prefill-workers', '1', '--decode-workers', '2', '--max-local-prefill-length', '0'], {DYN_DISAGGREGATION_LEASE_MS: '1500'});
    agg = await deploy('ag', ['--workers', '2']);
  }, 120_000);

  afterAll(async () => {
    await disagg?.stop();
    await agg?.stop();
  });

  it('gives every request the same reply as aggregated serving, prefilled on the prefill worker with the blocks pulled', async () => {
    const d = await replies(disagg.client);
    const a = await replies(agg.client);
    expect(d.texts).toEqual(a.texts);
    expect(d.texts.every((t) => t.length > 0)).toBe(true);
    expect(d.prefillWorkers).toEqual(PROMPTS.map(() => 'prefill-0'));
    expect(a.prefillWorkers.every((w) => w === null)).toBe(true);
    // The decode workers pulled blocks: at least each group's document once, verified (no failure).
    const pulled = await Promise.all(['decode-0', 'decode-1'].map((id) => disagg.metrics(id)));
    const tokens = pulled.reduce((n, m) => n + counter(m, 'dynamo_component_kv_transfer_tokens_total'), 0);
    expect(tokens).toBeGreaterThanOrEqual(4 * 600);
    expect(pulled.reduce((n, m) => n + counter(m, 'dynamo_component_kv_transfers_total\\{result="(?:failed|corrupted|no_room)"\\}'), 0)).toBe(0);
  }, 120_000);

  it('returns every block after the load: nothing active on either side, no lease held', async () => {
    await until(async () => {
      const all = [...(await disagg.health('prefill')), ...(await disagg.health('decode'))];
      return all.every((h) => h.kv_blocks.active === 0 && !h.kv_blocks.leases && h.kv_blocks.free + h.kv_blocks.inactive === h.kv_blocks.total);
    }, 10_000, 'every block to be free or cached-and-unused');
  });

  it('releases a hand-off nobody pulls when its lease runs out (a decode worker that died before or during its pull)', async () => {
    // Ask the prefill worker directly, as the frontend does, and never pull.
    const ps = JSON.parse((await dynamo(['ps', '--json'], {env: disagg.env})).stdout) as {processes: {id: string; ports: Record<string, number>}[]}[];
    const prefill = ps[0]!.processes.find((p) => p.id === 'prefill-0')!;
    // With the deployment's request-plane token, as its frontend has it.
    const token = readFileSync(join(disagg.env.DYN_HOME!, 'runs', 'dg', 'request-plane.token'), 'utf8');
    const conn = new WorkerConnection('127.0.0.1', prefill.ports.rpc!, {token});
    let handoff: KvTransferParams | undefined;
    try {
      for await (const c of conn.call({requestId: 'nobody-pulls', tokenIds: Array.from({length: 208}, (_, i) => 500 + i), maxTokens: 1})) handoff ??= (c as GenerateChunk).kvTransfer as KvTransferParams | undefined;
    } finally {
      conn.close();
    }
    expect(handoff?.slots.length).toBe(13);
    expect((await disagg.health('prefill'))[0]!.kv_blocks).toMatchObject({leases: 1, active: 13});
    await until(async () => {
      const h = (await disagg.health('prefill'))[0]!.kv_blocks;
      return h.leases === 0 && h.active === 0 && h.free + h.inactive === h.total;
    }, 10_000, 'the lease to run out and its blocks to be released');
    expect(counter(await disagg.metrics('prefill-0'), 'dynamo_component_kv_leases_expired_total')).toBe(1);
  }, 60_000);
});

describe('disaggregated serving with the KV blocks in UCX or GPU memory', () => {
  requireBinary();
  let reference: string[];
  beforeAll(async () => {
    const agg = await deploy('ag2', ['--workers', '1']);
    try {
      reference = (await replies(agg.client)).texts;
    } finally {
      await agg.stop();
    }
  }, 120_000);

  for (const [backend, env] of [
    ['ucx', {}],
    ['cuda', {DYNAMO_LIBCUDA: fakeLibcuda()}],
  ] as const) {
    it(`--kv-transfer-backend ${backend}: the same replies, the blocks pulled and verified, none lost`, async () => {
      const d = await deploy(`dg-${backend}`, ['--disagg', '--prefill-workers', '1', '--decode-workers', '1', '--max-local-prefill-length', '0', '--kv-transfer-backend', backend], env);
      try {
        const got = await replies(d.client);
        expect(got.texts).toEqual(reference);
        expect(got.prefillWorkers).toEqual(PROMPTS.map(() => 'prefill-0'));
        const m = await d.metrics('decode-0');
        expect(counter(m, 'dynamo_component_kv_transfer_tokens_total')).toBeGreaterThanOrEqual(4 * 600);
        expect(counter(m, 'dynamo_component_kv_transfers_total\\{result="(?:failed|corrupted|no_room)"\\}')).toBe(0);
        await until(async () => {
          const all = [...(await d.health('prefill')), ...(await d.health('decode'))];
          return all.every((h) => h.kv_blocks.active === 0 && !h.kv_blocks.leases);
        }, 10_000, 'every block to be released');
      } finally {
        await d.stop();
      }
    }, 120_000);
  }

  it('--kv-transfer-backend cuda without a CUDA driver: up stops at once, saying why and what to do', async () => {
    const env = {DYN_HOME: tempDir(), DYN_WORKERS_BASE_PORT: String(await freePortRange(8)), DYNAMO_LIBCUDA: '/nonexistent/libcuda.so.1'};
    const r = await dynamo(['up', '--model', MODEL, '--port', String(await freePort()), '--disagg', '--kv-transfer-backend', 'cuda'], {env, timeout: 30_000});
    expect(r.exitCode).not.toBe(0);
    expect(r.timedOut).toBeFalsy();
    expect(`${r.stdout}${r.stderr}`).toMatch(/--kv-transfer-backend cuda, but no CUDA driver[\s\S]*use --kv-transfer-backend auto/);
  }, 60_000);
});
