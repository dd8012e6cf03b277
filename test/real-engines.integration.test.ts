/**
 * `dynamo up --engine <real engine>` end to end on the built binary, with the stand-in engines
 * (test/fixtures/engines/bin) and the recorded 8×H100 box's nvidia-smi (test/fixtures/bin) first on
 * PATH, through the official openai client:
 * - aggregated: the frontend serves; the router learns the engines' caches from their KV events
 *   (its expected overlap rises on repeated prefixes), and KV routing beats round-robin on a
 *   shared-prefix workload (the workers' own cached share, side by side in one test);
 * - a killed engine process is restarted by its worker, which leaves discovery and comes back; a
 *   worker killed outright takes its engine with it, and the supervisor restarts both;
 * - disaggregated: prefill on the prefill worker's engine, decode on the decode worker's, which is
 *   handed the engine's own transfer fields and finds the prompt cached.
 */
import {execa} from 'execa';
import OpenAI from 'openai';
import {afterAll, describe, expect, it} from 'vitest';
import {dynamo, startUntil} from './helpers/cli.js';
import {fixture, freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

const MODEL = 'llama-3.1-8b';
const WORDS = 'engine event block cache router prefix worker token replay hash'.split(' ');
/** Three documents of ~300 tokens, each asked about in turn: 12 prompts. */
const PROMPTS = Array.from({length: 12}, (_, i) => {
  const g = i % 3;
  return `Document ${g}. ${Array.from({length: 300}, (_, k) => WORDS[(g * 3 + k * 7) % WORDS.length]).join(' ')}\nQuestion ${i}?`;
});

interface Deployment {
  client: OpenAI;
  env: Record<string, string>;
  url: string;
  output: () => string;
  stop(): Promise<void>;
  processes(): Promise<{id: string; pid?: number; status?: string; ports: Record<string, number>}[]>;
}

const running: Deployment[] = [];
afterAll(async () => {
  for (const d of running.splice(0)) await d.stop();
});

async function deploy(engine: string, name: string, args: string[]): Promise<Deployment> {
  const port = await freePort();
  const env = {
    DYN_HOME: tempDir(),
    PATH: `${fixture('engines/bin')}:${fixture('bin')}:${process.env.PATH}`,
    FAKE_NVIDIA_SMI_BOX: 'h100-sxm-8',
    DYNAMO_NO_NVML: '1',
    DYN_WORKERS_BASE_PORT: String(await freePortRange(8)),
    DYN_ENGINE_OPTIONS_BASE_PORT: String(await freePortRange(4)),
    DYN_ENGINE_OPTIONS_KV_EVENTS_BASE_PORT: String(await freePortRange(8)),
    DYN_ENGINE_OPTIONS_TRANSFER_BASE_PORT: String(await freePortRange(4)),
  };
  const up = await startUntil(['up', '--engine', engine, '--model', MODEL, '--port', String(port), '--name', name, ...args], /ready in/, {env, timeoutMs: 90_000});
  const d: Deployment = {
    client: new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0}),
    env,
    url: `http://127.0.0.1:${port}`,
    output: up.output,
    async stop() {
      up.child.kill('SIGTERM');
      await up.child;
    },
    async processes() {
      return (JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; pid?: number; status?: string; ports: Record<string, number>}[]}[])[0]!.processes;
    },
  };
  running.push(d);
  return d;
}

const counter = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
const frontendMetrics = async (d: Deployment) => (await fetch(`${d.url}/metrics`)).text();

/** Every prompt once, in order, one at a time; the workers' cached share of the prompt tokens. */
/** Pids of the engine serving on `port` (not the tether that runs it). */
async function enginePids(port: number): Promise<string[]> {
  const lines = (await execa('pgrep', ['-af', '--', `--port ${port}( |$)`], {reject: false})).stdout.split('\n').filter(Boolean);
  return lines.filter((l) => !l.includes(' tether ') && !l.includes('pgrep')).map((l) => l.split(' ')[0]!);
}

async function cachedShare(d: Deployment): Promise<number> {
  for (const [i, prompt] of PROMPTS.entries()) {
    const r = await d.client.completions.create({model: MODEL, prompt, max_tokens: 4, seed: i});
    expect(r.choices[0]!.text.length).toBeGreaterThan(0);
  }
  const m = await frontendMetrics(d);
  return counter(m, 'dynamo_router_cached_tokens_total') / counter(m, 'dynamo_router_prompt_tokens_total');
}

describe.each(['vllm', 'sglang', 'trtllm'])('dynamo up --engine %s (the stand-in engine)', (engine) => {
  requireBinary();

  it('serves through KV routing fed by the engines\' events, which beats round-robin on shared prefixes', async () => {
    const kv = await deploy(engine, `${engine}-kv`, ['--workers', '2', '--router-mode', 'kv']);
    const rr = await deploy(engine, `${engine}-rr`, ['--workers', '2', '--router-mode', 'round-robin']);
    const [kvShare, rrShare] = [await cachedShare(kv), await cachedShare(rr)];
    // The router's own view: the blocks it expected the chosen worker to hold, from KV events alone.
    expect(counter(await frontendMetrics(kv), 'dynamo_router_overlap_blocks_sum')).toBeGreaterThan(0);
    process.stdout.write(`${engine}: cached share of prompt tokens, kv ${kvShare.toFixed(3)} vs round-robin ${rrShare.toFixed(3)}\n`);
    expect(kvShare).toBeGreaterThan(rrShare);
    await rr.stop();
    running.splice(running.indexOf(rr), 1);
  }, 240_000);

  it('restarts a killed engine: its worker leaves discovery, then serves again', async () => {
    const d = running.find((x) => x.output().includes(`${engine}-kv`))!;
    const agg0 = (await d.processes()).find((p) => p.id === 'agg-0')!;
    const health = async () => (await fetch(`http://127.0.0.1:${agg0.ports.metrics}/health`)).json() as Promise<{status: string}>;
    const pids = await enginePids(agg0.ports.engine!);
    expect(pids.length).toBeGreaterThan(0);
    const inDiscovery = async () => ((await (await fetch(`${d.url}/health`)).json()) as {workers: {id: string}[]}).workers.some((w) => w.id === 'agg-0');
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    let states = new Set<string>();
    let left = false;
    await until(async () => {
      const s = (await health()).status;
      states.add(s);
      if (!(await inDiscovery())) left = true;
      return states.has('restarting') && s === 'ready';
    }, 60_000, 'the engine to die and be restarted');
    expect(left).toBe(true);
    await until(inDiscovery, 10_000, 'the worker back in discovery');
    states = new Set();
    const r = await d.client.completions.create({model: MODEL, prompt: PROMPTS[0]!, max_tokens: 4});
    expect(r.choices[0]!.text.length).toBeGreaterThan(0);
  }, 120_000);

  it('a worker killed outright takes its engine with it (no stray engine); the supervisor restarts both', async () => {
    const d = running.find((x) => x.output().includes(`${engine}-kv`))!;
    const agg1 = (await d.processes()).find((p) => p.id === 'agg-1')!;
    const engines = () => enginePids(agg1.ports.engine!);
    const before = await engines();
    expect(before.length).toBeGreaterThan(0);
    process.kill(agg1.pid!, 'SIGKILL');
    // The tether between worker and engine stops the engine; the restarted worker starts a new one.
    await until(async () => (await engines()).every((pid) => !before.includes(pid)), 30_000, 'the orphaned engine to be stopped');
    await until(async () => {
      const w = (await d.processes()).find((p) => p.id === 'agg-1');
      return !!w?.pid && w.pid !== agg1.pid && w.status === 'ready';
    }, 60_000, 'the worker to be restarted');
    expect((await engines()).length).toBeGreaterThan(0);
    const r = await d.client.completions.create({model: MODEL, prompt: PROMPTS[1]!, max_tokens: 4});
    expect(r.choices[0]!.text.length).toBeGreaterThan(0);
  }, 120_000);

  it('disaggregated: the prefill engine hands its transfer fields to the decode engine, which finds the prompt cached', async () => {
    const d = await deploy(engine, `${engine}-pd`, ['--disagg', '--max-local-prefill-length', '0']);
    for (const [i, prompt] of PROMPTS.slice(0, 3).entries()) {
      const {data, response} = await d.client.completions.create({model: MODEL, prompt, max_tokens: 6, seed: i, stream: true}).withResponse();
      let text = '';
      for await (const c of data) text += c.choices[0]?.text ?? '';
      expect(text.length).toBeGreaterThan(0);
      expect(response.headers.get('x-dynamo-prefill-worker-id')).toBe('prefill-0');
    }
    const m = await frontendMetrics(d);
    expect(counter(m, 'dynamo_frontend_disagg_prefill_total\\{[^}]*path="remote"[^}]*\\}')).toBe(3);
    // Every full block of each prompt came from the prefill side.
    expect(counter(m, 'dynamo_router_cached_tokens_total')).toBeGreaterThan(0.9 * counter(m, 'dynamo_router_prompt_tokens_total') - 3 * 16);
    await d.stop();
    running.splice(running.indexOf(d), 1);
  }, 180_000);
});
