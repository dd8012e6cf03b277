/**
 * A real engine on SSH hosts, on the built binary: `dynamo up --engine vllm` with one worker on
 * each of two hosts (loopback aliases 127.0.0.2 and 127.0.0.3, an sshd, a user and a home each).
 * Each host's PATH (hosts.<name>.env) finds the stand-in vLLM and the recorded nvidia-smi of a
 * different box, so the plan reads each host's own GPUs over SSH and assigns them host by host.
 * Something already listens on workers.basePort on one host, so the default range moves past it.
 * The frontend here serves through the remote engines, the router learns their caches from
 * their KV events, each engine runs as its host's user with its log in that host's run
 * directory, and `down` leaves nothing on either host.
 */
import {existsSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {dirname, join} from 'node:path';
import {execa} from 'execa';
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {requireEtcd} from './helpers/etcd.js';
import {fixture, freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';
import {type TestHost, requireSshd, startTestHost} from './helpers/sshd.js';

const MODEL = 'llama-3.1-8b';
const WORDS = 'host engine ship router prefix worker token cache block gpu'.split(' ');
const PROMPTS = Array.from({length: 8}, (_, i) => {
  const g = i % 2;
  return `Document ${g}. ${Array.from({length: 300}, (_, k) => WORDS[(g * 3 + k * 7) % WORDS.length]).join(' ')}\nQuestion ${i}?`;
});
const counter = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
const DEFAULT_WORKERS_BASE_PORT = 8100;

describe('dynamo up --engine vllm with workers on two SSH hosts', () => {
  requireBinary();
  requireSshd();
  requireEtcd();
  const tag = process.pid % 10000;
  const hosts: TestHost[] = [];
  const home = tempDir();
  let configDir: string;
  // Something else on h2 holds the default first worker port (when nothing here already does).
  const squatter = createServer();

  beforeAll(async () => {
    hosts.push(await startTestHost(`dyne2x${tag}`, '127.0.0.2'), await startTestHost(`dyne3x${tag}`, '127.0.0.3'));
    await new Promise<void>((resolve) => {
      squatter.once('error', () => resolve());
      squatter.listen(DEFAULT_WORKERS_BASE_PORT, '127.0.0.2', () => resolve());
    });
    // What the host's login would not give it: the engine and nvidia-smi (stand-ins) and node on PATH.
    const env = (box: string) => ({PATH: [fixture('engines/bin'), fixture('bin'), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'), FAKE_NVIDIA_SMI_BOX: box});
    configDir = tempDir();
    writeFileSync(
      join(configDir, 'dynamo.config.yaml'),
      [
        `model: ${MODEL}`,
        'engine: vllm',
        'hosts:',
        `  h2: ${hosts[0]!.yaml(env('h100-sxm-8'))}`,
        `  h3: ${hosts[1]!.yaml(env('a100-pcie-4-nvlink-pairs'))}`,
        'workers:',
        '  agg: {count: 2, hosts: [h2, h3]}',
        `discovery: {backend: etcd, etcdPort: ${await freePortRange(2)}}`,
        '',
      ].join('\n'),
    );
  }, 60_000);
  afterAll(async () => {
    squatter.close();
    for (const h of hosts) await h.remove();
  });

  it('plans each host\'s own GPUs, serves through the remote engines fed by their KV events, and leaves nothing behind', async () => {
    const env = {DYN_HOME: home};
    // The plan reads each host's GPUs over SSH (nothing is shipped or started yet).
    const dry = await dynamo(['up', '--dry-run', '--json'], {env, cwd: configDir, timeout: 60_000});
    expect(dry.exitCode, dry.stderr).toBe(0);
    const planned = (JSON.parse(dry.stdout) as {processes: {id: string; host: {name: string}; env: Record<string, string>; engine?: {env: Record<string, string>}}[]}).processes;
    const worker = (id: string) => planned.find((p) => p.id === id)!;
    expect([worker('agg-0').host.name, worker('agg-1').host.name]).toEqual(['h2', 'h3']);
    // Each host's first GPU: assigned host by host, not as one machine's GPUs 0 and 1.
    expect([worker('agg-0').engine!.env.CUDA_VISIBLE_DEVICES, worker('agg-1').engine!.env.CUDA_VISIBLE_DEVICES]).toEqual(['0', '0']);
    expect(worker('agg-1').env.FAKE_NVIDIA_SMI_BOX).toBe('a100-pcie-4-nvlink-pairs');

    const port = await freePort();
    const up = await startUntil(['up', '--name', 'mhe', '--port', String(port)], /ready in/, {env, cwd: configDir, timeoutMs: 180_000});
    const url = `http://127.0.0.1:${port}`;
    const client = new OpenAI({baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0});
    for (const [i, prompt] of PROMPTS.entries()) {
      const r = await client.completions.create({model: MODEL, prompt, max_tokens: 4, seed: i});
      expect(r.choices[0]!.text.length).toBeGreaterThan(0);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    // The router expected cached blocks on the chosen worker: learned from the remote engines' KV events.
    expect(counter(metrics, 'dynamo_router_overlap_blocks_sum')).toBeGreaterThan(0);

    const ps = (JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {name: string; processes: {id: string; host: string; ports: Record<string, number>}[]}[]).find((d) => d.name === 'mhe')!;
    const rpc = ps.processes.filter((p) => p.id.startsWith('agg-')).map((p) => p.ports.rpc!);
    // The default range moved past the port held on h2 (rpc ports from workers.basePort up).
    process.stdout.write(`two hosts: workers' rpc ports ${rpc.join(', ')} (default range from ${DEFAULT_WORKERS_BASE_PORT}, held on h2)\n`);
    expect(rpc).not.toContain(DEFAULT_WORKERS_BASE_PORT);
    // Each engine runs as its host's user, its log in that host's own run directory.
    for (const h of hosts) {
      expect((await execa('pgrep', ['-u', h.user, '-f', 'vllm serve'], {reject: false})).stdout.trim()).not.toBe('');
    }
    expect(existsSync(join(hosts[0]!.home, '.dynamo/runs/mhe/logs/agg-0.engine.log'))).toBe(true);
    expect(existsSync(join(hosts[1]!.home, '.dynamo/runs/mhe/logs/agg-1.engine.log'))).toBe(true);

    expect((await dynamo(['down', 'mhe'], {env, timeout: 60_000})).exitCode).toBe(0);
    await up.child;
    const leftOn = async (user: string) => (await execa('pgrep', ['-u', user], {reject: false})).stdout.trim();
    await until(async () => (await leftOn(hosts[0]!.user)) === '' && (await leftOn(hosts[1]!.user)) === '', 15_000, 'nothing left on either host');
  }, 300_000);
});
