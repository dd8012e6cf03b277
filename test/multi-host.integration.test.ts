/**
 * One `dynamo up` across three hosts on the built binary: the frontend and etcd here (127.0.0.1),
 * mocker workers on two more hosts, loopback aliases 127.0.0.2 and 127.0.0.3, each with its own
 * sshd and its own user and home, so the binary really is shipped to each and each host's workers
 * bind only to its own address. KV routing beats round-robin across them on a shared-prefix
 * workload; `ps` shows every host, `logs` a remote worker's output and `top` every worker at its
 * own address; a host whose sshd and processes die leaves routing while the
 * other keeps serving; `down` leaves nothing on any host.
 */
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {execa} from 'execa';
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {requireEtcd} from './helpers/etcd.js';
import {freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';
import {type TestHost, requireSshd, startTestHost} from './helpers/sshd.js';

const MODEL = 'qwen3-0.6b';
const WORDS = 'host etcd lease ship router prefix worker token cache block'.split(' ');
const PROMPTS = Array.from({length: 12}, (_, i) => {
  const g = i % 3;
  return `Document ${g}. ${Array.from({length: 300}, (_, k) => WORDS[(g * 3 + k * 7) % WORDS.length]).join(' ')}\nQuestion ${i}?`;
});
const counter = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

describe('dynamo up across three hosts (loopback aliases, an sshd and a home each)', () => {
  requireBinary();
  requireSshd();
  requireEtcd();
  const tag = process.pid % 10000;
  const hosts: TestHost[] = [];
  let configDir: string;
  const home = tempDir();

  beforeAll(async () => {
    hosts.push(await startTestHost(`dynh2x${tag}`, '127.0.0.2'), await startTestHost(`dynh3x${tag}`, '127.0.0.3'));
    configDir = tempDir();
    writeFileSync(
      join(configDir, 'dynamo.config.yaml'),
      [
        `model: ${MODEL}`,
        'hosts:',
        `  h2: ${hosts[0]!.yaml()}`,
        `  h3: ${hosts[1]!.yaml()}`,
        'workers:',
        `  basePort: ${await freePortRange(4)}`,
        '  agg: {count: 2, hosts: [h2, h3]}',
        `discovery: {backend: etcd, etcdPort: ${await freePortRange(2)}, leaseTtlS: 2}`,
        'mocker: {speedupRatio: 10}',
        '',
      ].join('\n'),
    );
  }, 60_000);
  afterAll(async () => {
    for (const h of hosts) await h.remove();
  });

  const deploy = async (name: string, mode: string) => {
    const port = await freePort();
    const env = {DYN_HOME: home};
    const up = await startUntil(['up', '--name', name, '--port', String(port), '--router-mode', mode], /ready in/, {env, cwd: configDir, timeoutMs: 120_000});
    return {
      up,
      env,
      url: `http://127.0.0.1:${port}`,
      client: new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0}),
      async down() {
        expect((await dynamo(['down', name], {env, timeout: 60_000})).exitCode).toBe(0);
        await up.child;
      },
    };
  };
  const cachedShare = async (d: Awaited<ReturnType<typeof deploy>>) => {
    for (const [i, prompt] of PROMPTS.entries()) await d.client.completions.create({model: MODEL, prompt, max_tokens: 4, seed: i});
    const m = await (await fetch(`${d.url}/metrics`)).text();
    return counter(m, 'dynamo_router_cached_tokens_total') / counter(m, 'dynamo_router_prompt_tokens_total');
  };
  const leftOn = async (user: string) => (await execa('pgrep', ['-u', user, '-f', 'dynamo-'], {reject: false})).stdout.trim();

  it('ships to each host, routes by KV cache across them better than round-robin, and leaves nothing behind', async () => {
    const rr = await deploy('mh-rr', 'round-robin');
    const rrShare = await cachedShare(rr);
    await rr.down();
    const kv = await deploy('mh-kv', 'kv');
    expect(kv.up.output()).toMatch(/dynamo on h2: this build (is there|copied)/);
    expect(kv.up.output()).toMatch(/dynamo on h3: this build (is there|copied)/);
    const kvShare = await cachedShare(kv);
    process.stdout.write(`three hosts: cached share of prompt tokens, kv ${kvShare.toFixed(3)} vs round-robin ${rrShare.toFixed(3)}\n`);
    expect(kvShare).toBeGreaterThan(rrShare);

    // Every host in ps; each worker bound to its own host's address only.
    const ps = (JSON.parse((await dynamo(['ps', '--json'], {env: kv.env})).stdout) as {name: string; processes: {id: string; host: string; ports: Record<string, number>}[]}[]).find((d) => d.name === 'mh-kv')!;
    expect(Object.fromEntries(ps.processes.map((p) => [p.id, p.host]))).toEqual({etcd: 'local', 'agg-0': 'h2', 'agg-1': 'h3', frontend: 'local'});
    const rpc0 = ps.processes.find((p) => p.id === 'agg-0')!.ports.rpc!;
    const listening = (await execa('ss', ['-ltn'])).stdout;
    expect(listening).toContain(`127.0.0.2:${rpc0}`);
    expect(listening).not.toMatch(new RegExp(`(0\\.0\\.0\\.0|\\*|127\\.0\\.0\\.1):${rpc0}\\b`));

    // logs: a remote worker's output, streamed back over its SSH session into this run directory.
    const logs = await dynamo(['logs', 'agg-1', '--name', 'mh-kv', '--lines', '200'], {env: kv.env});
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toMatch(/worker agg-1 \(agg, mocker\) ready: .* rpc 127\.0\.0\.3:\d+/);
    // top: every worker scraped at its own host's address, up, with its host.
    const snap = JSON.parse((await dynamo(['top', '--json', '--name', 'mh-kv', '--interval', '0.5', '--window', '2'], {env: kv.env, timeout: 30_000})).stdout) as {sources: {id: string; host?: string; state: string; url: string}[]};
    const seen = Object.fromEntries(snap.sources.map((s) => [s.id, [s.host, s.state, new URL(s.url).hostname]]));
    expect(seen['agg-0']).toEqual(['h2', 'up', '127.0.0.2']);
    expect(seen['agg-1']).toEqual(['h3', 'up', '127.0.0.3']);
    expect(seen.frontend?.[1]).toBe('up');

    // Host h3 dies (its sshd and every process of its user): its worker leaves routing, h2 keeps serving.
    await hosts[1]!.kill();
    await until(async () => {
      const h = (await (await fetch(`${kv.url}/health`)).json()) as {workers: {id: string}[]};
      return h.workers.map((w) => w.id).join() === 'agg-0';
    }, 15_000, 'h3\'s worker to leave routing');
    for (let i = 0; i < 4; i++) {
      const r = await kv.client.completions.create({model: MODEL, prompt: PROMPTS[i]!, max_tokens: 4});
      expect(r.choices[0]!.text.length).toBeGreaterThan(0);
    }

    await kv.down();
    await until(async () => (await leftOn(hosts[0]!.user)) === '' && (await leftOn(hosts[1]!.user)) === '', 15_000, 'nothing left on any host');
  }, 300_000);
});
