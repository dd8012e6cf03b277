/**
 * `dynamo up --event-plane nats` on the built binary: up runs a real nats-server (and etcd) itself,
 * workers publish their KV events on the deployment's subject, and a second `dynamo frontend`
 * started by hand against the same etcd and NATS routes as well as the first: once three documents
 * are cached (through the first), questions about them sent alternately to both frontends are
 * served from cache in the same share by each.
 * NATS's own monitoring shows the four clients and the messages (events and loads) they carried;
 * `down` leaves no
 * nats-server behind.
 */
import {execa} from 'execa';
import OpenAI from 'openai';
import {afterAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {requireEtcd} from './helpers/etcd.js';
import {requireNats} from './helpers/nats.js';
import {freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

const MODEL = 'qwen3-0.6b';
const WORDS = 'nats subject event router worker prefix cache block token lease'.split(' ');
const DOCS = Array.from({length: 3}, (_, g) => `Document ${g}. ${Array.from({length: 300}, (_, k) => WORDS[(g * 3 + k * 7) % WORDS.length]).join(' ')}`);
const counter = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

describe('dynamo up with the NATS event plane and two frontends', () => {
  requireBinary();
  requireEtcd();
  requireNats();
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it('runs its own NATS; a second frontend on the same planes routes with the same hit rate; nothing left behind', async () => {
    const home = tempDir();
    const [portA, portB] = [await freePort(), await freePort()];
    const etcdPort = await freePortRange(2);
    const natsPort = await freePortRange(2);
    const env = {DYN_HOME: home, DYN_WORKERS_BASE_PORT: String(await freePortRange(4)), DYN_DISCOVERY_ETCD_PORT: String(etcdPort), DYN_EVENT_PLANE_NATS_PORT: String(natsPort)};
    const up = await startUntil(['up', '--model', MODEL, '--port', String(portA), '--name', 'nt', '--workers', '2', '--discovery', 'etcd', '--event-plane', 'nats'], /ready in/, {env, timeoutMs: 90_000});
    stops.push(async () => {
      up.child.kill('SIGTERM');
      await up.child;
    });
    const procs = (JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; ports: Record<string, number>}[]}[])[0]!.processes;
    expect(procs.map((p) => p.id)).toEqual(['etcd', 'nats', 'agg-0', 'agg-1', 'frontend']);

    // A second frontend, by hand, on the same discovery and event plane.
    const second = await startUntil(
      ['frontend', '--model', MODEL, '--port', String(portB), '--discovery', 'etcd', '--etcd-endpoints', `http://127.0.0.1:${etcdPort}`, '--deployment', 'nt', '--event-plane', 'nats', '--nats-url', `nats://127.0.0.1:${natsPort}`],
      /frontend ready/,
      {env, timeoutMs: 60_000},
    );
    stops.push(async () => {
      second.child.kill('SIGTERM');
      await second.child;
    });
    const urls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    await until(async () => ((await (await fetch(`${urls[1]}/health`)).json()) as {workers: unknown[]}).workers.length === 2, 20_000, 'the second frontend to see both workers');

    type Conn = {cid: number; name?: string; in_msgs: number; out_msgs: number};
    const connz = async () => ((await (await fetch(`http://127.0.0.1:${natsPort + 1}/connz`)).json()) as {connections: Conn[]}).connections;
    const clients = urls.map((u) => new OpenAI({baseURL: `${u}/v1`, apiKey: 'x', maxRetries: 0}));
    const cached = async (u: string) => {
      const m = await (await fetch(`${u}/metrics`)).text();
      return {hit: counter(m, 'dynamo_router_cached_tokens_total'), all: counter(m, 'dynamo_router_prompt_tokens_total')};
    };
    // Gate: each worker's /health says the id of its last KV event, each router's /health the id it applied.
    const workerHealth = procs.filter((p) => p.id.startsWith('agg-')).map((p) => `http://127.0.0.1:${p.ports.metrics}/health`);
    const eventsApplied = async () => {
      const published = await Promise.all(workerHealth.map(async (u) => (await (await fetch(u)).json()) as {worker: string; kv_event_id: number}));
      const routers = await Promise.all(urls.map(async (u) => ((await (await fetch(`${u}/health`)).json()) as {workers: {id: string; kv_event_id?: number}[]}).workers));
      return published.every((w) => routers.every((ws) => (ws.find((x) => x.id === w.worker)?.kv_event_id ?? -1) >= w.kv_event_id));
    };
    const send = async (client: OpenAI, doc: number, i: number) => {
      await client.completions.create({model: MODEL, prompt: `${DOCS[doc]}\nQuestion ${i}?`, max_tokens: 4, seed: i});
      await until(eventsApplied, 10_000, 'both routers to apply the KV events of the request before the next');
    };
    // Each document enters a cache once, through the first frontend; then both ask about each
    // document twice, alternately: a router blind to the other's traffic would miss its caches.
    const connzBefore = await connz();
    for (let doc = 0; doc < DOCS.length; doc++) await send(clients[0]!, doc, 100 + doc);
    const before = await Promise.all(urls.map(cached));
    for (let i = 0; i < 12; i++) await send(clients[i % 2]!, Math.floor(i / 2) % DOCS.length, i);
    const after = await Promise.all(urls.map(cached));
    const shares = after.map((a, k) => (a.hit - before[k]!.hit) / (a.all - before[k]!.all));
    process.stdout.write(`two frontends on NATS: cached share of prompt tokens ${shares.map((s) => s.toFixed(3)).join(' and ')}\n`);
    expect(Math.min(...shares)).toBeGreaterThan(0.8);
    expect(Math.abs(shares[0]! - shares[1]!)).toBeLessThan(0.05);

    // NATS carried them: two workers and two frontends connected; while both frontends listened,
    // each got every message the workers published (events, and loads twice a second: a few in flight).
    const [c0, c1] = [connzBefore, await connz()];
    expect(c1.filter((c) => /^dynamo worker agg-\d$/.test(c.name ?? '')).length).toBe(2);
    expect(c1.filter((c) => /^dynamo frontend/.test(c.name ?? '')).length).toBe(2);
    const sum = (cs: Conn[], re: RegExp, k: 'in_msgs' | 'out_msgs') => cs.filter((c) => re.test(c.name ?? '')).reduce((a, c) => a + c[k], 0);
    const published = sum(c1, /^dynamo worker/, 'in_msgs') - sum(c0, /^dynamo worker/, 'in_msgs');
    // Each document's blocks stored (one event each), and the loads: twice a second, so none when
    // the requests above took under half a second.
    expect(published).toBeGreaterThanOrEqual(DOCS.length);
    for (const f of c1.filter((c) => /^dynamo frontend/.test(c.name ?? ''))) {
      const got = f.out_msgs - (c0.find((c) => c.cid === f.cid)?.out_msgs ?? 0);
      expect(Math.abs(got - published)).toBeLessThanOrEqual(4);
    }

    for (const s of stops.splice(0).reverse()) await s();
    expect((await dynamo(['ps', '--json'], {env})).stdout).not.toContain('"nt"');
    expect((await execa('pgrep', ['-f', `nats-server --name dynamo-nt .*--port ${natsPort}`], {reject: false})).stdout.trim()).toBe('');
  }, 240_000);
});
