// npm run bench:frontend — what the frontend costs, side by side in one run, for 1k-token chat prompts:
//   (a) floor:    a minimal OpenAI-shaped server that answers at once, called directly
//   (b) nginx:    the same server behind Debian's nginx as a plain proxy
//   (c) dynamo:   `dynamo up` (frontend + 1 mocker worker at infinite speed)
// Workloads: unique ~1k-token prompts, and multi-turn conversations whose prompts repeat their
// history (growing to ~1k tokens). Streaming and not. Two phases per run:
//   latency:    one request at a time (no queueing): added latency = (b|c) − (a) at p50/p99; the
//               targets take turns in blocks of 100 requests, so a busy minute of this shared
//               machine falls on all of them alike;
//   throughput: CONCURRENCY lanes: requests/s and input tokens/s, and tokens/s per core, which
//               divides by the CPU the serving processes used (from /proc), not by wall time.
// Then the router's decision cost inside the frontend (hashing, index lookup, scoring: its own
// dynamo_router_overhead_total_ms) for unique ~1k- and ~8k-token prompts.
// Sample sizes: a p99 of 300 requests is their third worst, and moved by ±2 ms between runs on this
// machine; 2,000 make it the twentieth. Each target is warmed first (JIT, caches) with requests of
// their own, not the ones measured (which would then find their prompts cached).
// Prints a table and a JSON record. Env: REQUESTS (per throughput run; default 3000), CONCURRENCY,
// LATENCY_REQUESTS (default 2000), WORKLOADS (a comma list of those to run, e.g.
// multiturn/unary,unique/stream; default all four), WARMUP (requests per lane before each target's
// runs, from conversations of their own; default 64),
// BIN (the build measured as `dynamo`; default dist/dynamo), BASELINE_BIN (another build of dynamo, e.g. from the previous commit: measured as target
// `baseline` in the same run, interleaved with `dynamo`, and compared as ratios).
import {spawn} from 'node:child_process';
import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {resolveModel} from '../src/config/models.js';
import {prng} from '../src/shared/prng.js';
import {loadTokenizerFiles} from '../src/tokenizer/bundled.js';
import {ChatTemplate} from '../src/tokenizer/chat-template.js';
import {PromptEncoder} from '../src/tokenizer/encoder.js';
import {Vocab} from '../src/tokenizer/vocab.js';
import {freePort, freePortRange, tempDir} from '../test/helpers/processes.js';
import {interleavedSerial, quantile, runLanes} from './bench/load.js';
import {startNginxProxy} from './bench/nginx.js';

const ROOT = join(import.meta.dirname, '..');
const REQUESTS = Number(process.env.REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const LATENCY_REQUESTS = Number(process.env.LATENCY_REQUESTS ?? 2000);
const MODEL = 'deepseek-r1';
const WORKLOADS = process.env.WORKLOADS?.split(',');
const WARMUP = Number(process.env.WARMUP ?? 64);

const WORDS = 'the model serves requests with a cache of blocks and routes each prompt to the worker that holds most of its prefix while latency stays low under load for every user of the system in time'.split(' ');

function words(rand: () => number, n: number): string {
  return Array.from({length: n}, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
}

type Message = {role: string; content: string};

/** Lanes of request bodies: unique prompts (one lane = independent requests) or conversations (turns in order). */
function workloads(perLane: number, seed: number): {unique: Message[][][]; multiturn: Message[][][]} {
  const rand = prng(seed);
  const unique = Array.from({length: CONCURRENCY}, (_, lane) =>
    Array.from({length: perLane}, (_, i) => [{role: 'user', content: `Request ${lane}-${i}: ${words(rand, 900)}`}]),
  );
  const turns = 8;
  const multiturn = Array.from({length: CONCURRENCY}, (_, lane) => {
    const out: Message[][] = [];
    for (let conv = 0; out.length < perLane; conv++) {
      const history: Message[] = [{role: 'system', content: `Conversation ${lane}-${conv}. ${words(rand, 60)}`}];
      for (let t = 0; t < turns && out.length < perLane; t++) {
        history.push({role: 'user', content: words(rand, 90)});
        out.push([...history]);
        history.push({role: 'assistant', content: words(rand, 30)});
      }
    }
    return out;
  });
  return {unique, multiturn};
}

/** USER_HZ: what /proc counts utime and stime in (100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

/**
 * What the processes' threads have run so far: per thread to the nanosecond (/proc/PID/task/TID/schedstat;
 * a run of a few hundred requests is ~0.1 s of CPU, which the 10 ms ticks of /proc/PID/stat would
 * round by ±10 %), and per process in ticks (utime + stime, which keep the time of threads that have
 * ended).
 */
interface CpuSample {
  threads: Map<string, number>;
  ticks: number;
}

function cpuSample(pids: number[]): CpuSample {
  const threads = new Map<string, number>();
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          threads.set(`${pid}/${tid}`, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
        } catch {}
      }
    } catch {}
  }
  return {threads, ticks};
}

/**
 * CPU seconds run between two samples: from the threads' nanoseconds, unless a thread ended in
 * between (a JIT or GC helper that went idle): its time would vanish from the sum, which could then
 * read near zero, so the ticks count instead.
 */
function cpuSecondsBetween(a: CpuSample, b: CpuSample): number {
  let ns = 0;
  for (const [tid, v] of b.threads) ns += v - (a.threads.get(tid) ?? 0);
  for (const tid of a.threads.keys()) if (!b.threads.has(tid)) return (b.ticks - a.ticks) / TICKS_PER_SECOND;
  return ns / 1e9;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {}
  }
  return out;
}

async function waitForLine(p: ReturnType<typeof spawn>, re: RegExp, ms = 60_000): Promise<void> {
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${re}: ${seen}`)), ms);
    const on = (c: Buffer) => {
      seen += c;
      if (re.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    };
    p.stdout?.on('data', on);
    p.stderr?.on('data', on);
  });
}

/** `dynamo up` with one mocker worker at infinite speed, from the given binary; resolves when ready. */
async function startDynamo(bin: string, home: string, name: string) {
  const port = await freePort();
  const proc = spawn(bin, ['up', '--model', MODEL, '--workers', '1', '--port', String(port), '--name', 'bench'], {
    env: {...process.env, DYN_HOME: home, DYN_MOCKER_SPEEDUP_RATIO: '0', DYN_WORKERS_BASE_PORT: String(await freePortRange(2)), NO_COLOR: '1', CI: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForLine(proc, /ready in/);
  const state = JSON.parse(readFileSync(join(home, 'runs/bench/state.json'), 'utf8')) as {processes: {id: string; pid: number}[]};
  return {name, port, process: proc, frontendPid: state.processes.find((p) => p.id === 'frontend')!.pid};
}

/** Sum and count of the frontend's router decision histogram (ms). */
async function routerOverhead(port: number): Promise<{sum: number; count: number}> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const pick = (what: string) => [...text.matchAll(new RegExp(`^dynamo_router_overhead_total_ms_${what}(?:\\{[^}]*\\})? ([\\d.e+-]+)`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  return {sum: pick('sum'), count: pick('count')};
}

/** Per workload: this build against the baseline build measured in the same run. */
function baselineRatios(rows: Record<string, unknown>[]) {
  const out: {workload: string; [k: string]: string | number}[] = [];
  for (const r of rows.filter((x) => x.target === 'dynamo')) {
    const b = rows.find((x) => x.target === 'baseline' && x.workload === r.workload);
    if (!b) continue;
    out.push({
      workload: String(r.workload),
      added_p50_ms_dynamo: r.added_p50_ms as number,
      added_p50_ms_baseline: b.added_p50_ms as number,
      added_p99_ms_dynamo: r.added_p99_ms as number,
      added_p99_ms_baseline: b.added_p99_ms as number,
      req_s_ratio: +((r.req_s as number) / (b.req_s as number)).toFixed(3),
      Mtok_s_per_core_ratio: +((r.Mtok_s_per_core as number) / (b.Mtok_s_per_core as number)).toFixed(3),
    });
  }
  return out;
}

async function main() {
  const info = resolveModel(MODEL);
  const files = await loadTokenizerFiles(info);
  const vocab = Vocab.fromJson(files.tokenizerJson);
  const encoder = await PromptEncoder.create(files.tokenizerJson, vocab);
  const template = new ChatTemplate(files.tokenizerConfig);
  const w = workloads(Math.ceil(REQUESTS / CONCURRENCY), 42);
  const warm = workloads(WARMUP, 43);
  const bodies: Record<string, {lanes: string[][]; tokens: number; warmup: string[][]}> = {};
  const body = (messages: Message[], stream: boolean) =>
    JSON.stringify({model: MODEL, messages, max_tokens: 16, ignore_eos: true, stream, ...(stream ? {stream_options: {include_usage: true}} : {})});
  for (const [name, lanes] of Object.entries(w)) {
    for (const stream of [false, true]) {
      const key = `${name}/${stream ? 'stream' : 'unary'}`;
      if (WORKLOADS && !WORKLOADS.includes(key)) continue;
      let tokens = 0;
      const l = await Promise.all(
        lanes.map((lane) =>
          Promise.all(
            lane.map(async (messages) => {
              const n = (await encoder.encodeUncached(template.render(messages))).length;
              tokens += n;
              return body(messages, stream);
            }),
          ),
        ),
      );
      const warmup = warm[name as keyof typeof warm].map((lane) => lane.map((m) => body(m, stream)));
      bodies[key] = {lanes: l, tokens, warmup};
    }
  }

  const dir = tempDir('dyn-bench-');
  const floorPort = await freePort();
  const floor = spawn(process.execPath, [join(ROOT, 'scripts/bench/openai-floor.mjs'), String(floorPort)], {stdio: ['ignore', 'pipe', 'pipe']});
  await waitForLine(floor, /ready/);
  const nginxPort = await freePort();
  const stopNginx = await startNginxProxy(join(dir, 'nginx'), nginxPort, floorPort);
  const nginxMaster = Number(readFileSync(join(dir, 'nginx', 'nginx.pid'), 'utf8'));
  const deployments = [await startDynamo(process.env.BIN ?? join(ROOT, 'dist/dynamo'), join(dir, 'home'), 'dynamo')];
  if (process.env.BASELINE_BIN) deployments.push(await startDynamo(process.env.BASELINE_BIN, join(dir, 'home-baseline'), 'baseline'));

  const targets = [
    {name: 'floor', port: floorPort, pids: () => [floor.pid!]},
    {name: 'nginx', port: nginxPort, pids: () => [nginxMaster, ...childrenOf(nginxMaster), floor.pid!]},
    ...deployments.map((d) => ({name: d.name, port: d.port, pids: () => [d.frontendPid]})),
  ];
  if (!Object.keys(bodies).length) throw new Error(`WORKLOADS names none of unique/unary, unique/stream, multiturn/unary, multiturn/stream: ${process.env.WORKLOADS}`);
  const rows: Record<string, unknown>[] = [];
  const routerCost: Record<string, unknown>[] = [];
  try {
    for (const [key, {lanes, tokens, warmup}] of Object.entries(bodies)) {
      // One lane holding requests from every lane, in order (conversations stay in turn order),
      // sent to every target in turn, in blocks (interleavedSerial), after each target's warm-up.
      const serial = lanes.flat().slice(0, LATENCY_REQUESTS);
      for (const t of targets) await runLanes(t.port, '/v1/chat/completions', warmup); // JIT, caches
      const latency = await interleavedSerial(targets.map((t) => t.port), '/v1/chat/completions', serial);
      const floorLatency = latency[targets.findIndex((t) => t.name === 'floor')]!.latenciesMs;
      const base = {p50: quantile(floorLatency, 0.5), p99: quantile(floorLatency, 0.99)};
      for (const [ti, t] of targets.entries()) {
        const p50 = quantile(latency[ti]!.latenciesMs, 0.5);
        const p99 = quantile(latency[ti]!.latenciesMs, 0.99);
        const pids = t.pids();
        const c0 = cpuSample(pids);
        const r = await runLanes(t.port, '/v1/chat/completions', lanes);
        const cores = cpuSecondsBetween(c0, cpuSample(pids)) / r.seconds;
        const tokPerSec = (tokens * (r.requests - r.errors)) / r.requests / r.seconds;
        rows.push({
          workload: key,
          target: t.name,
          req_s: +(r.requests / r.seconds).toFixed(0),
          errors: r.errors + latency[ti]!.errors,
          input_Mtok_s: +(tokPerSec / 1e6).toFixed(3),
          p50_ms: +p50.toFixed(2),
          p99_ms: +p99.toFixed(2),
          added_p50_ms: t.name === 'floor' ? 0 : +(p50 - base.p50).toFixed(2),
          added_p99_ms: t.name === 'floor' ? 0 : +(p99 - base.p99).toFixed(2),
          loaded_p50_ms: +quantile(r.latenciesMs, 0.5).toFixed(2),
          server_cores: +cores.toFixed(2),
          Mtok_s_per_core: +(tokPerSec / 1e6 / Math.max(cores, 0.01)).toFixed(3),
        });
      }
    }
    for (const d of deployments) {
      for (const [label, n] of [
        ['1k', 900],
        ['8k', 7600],
      ] as const) {
        const rand = prng(n);
        const lane = Array.from({length: 100}, (_, i) => JSON.stringify({model: MODEL, messages: [{role: 'user', content: `Decision ${label}-${i}: ${words(rand, n)}`}], max_tokens: 1}));
        const before = await routerOverhead(d.port);
        await runLanes(d.port, '/v1/chat/completions', [lane]);
        const after = await routerOverhead(d.port);
        routerCost.push({target: d.name, prompt: label, decisions: after.count - before.count, us_per_decision: +((1000 * (after.sum - before.sum)) / (after.count - before.count)).toFixed(1)});
      }
    }
  } finally {
    for (const d of deployments) d.process.kill('SIGTERM');
    stopNginx();
    floor.kill('SIGTERM');
  }
  const cols = Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  console.log(`bench:frontend — ${MODEL} chat, max_tokens 16; latency: ${LATENCY_REQUESTS} requests one at a time; throughput: ${REQUESTS} requests, ${CONCURRENCY} concurrent; warm-up: ${WARMUP} requests per lane (conversations of their own)\n`);
  console.log(cols.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  for (const r of rows) console.log(cols.map((c, i) => String(r[c]).padEnd(widths[i]!)).join('  '));
  console.log('\nrouter decision inside the frontend (hash + index lookup + scoring, dynamo_router_overhead_total_ms):');
  for (const r of routerCost) console.log(`  ${String(r.target).padEnd(8)} ${r.prompt}-token prompts: ${r.us_per_decision} µs per decision (${r.decisions} decisions)`);
  const ratios = baselineRatios(rows);
  if (ratios.length) {
    console.log('\ndynamo ÷ baseline (same run): added latency and throughput per core');
    for (const r of ratios) console.log(`  ${r.workload.padEnd(18)} added p50 ${r.added_p50_ms_dynamo} vs ${r.added_p50_ms_baseline} ms · input tok/s per core ×${r.Mtok_s_per_core_ratio}`);
  }
  console.log(`\n${JSON.stringify({bench: 'frontend', model: MODEL, requests: REQUESTS, concurrency: CONCURRENCY, warmup_per_lane: WARMUP, results: rows, router_decision: routerCost, ...(ratios.length ? {baseline: process.env.BASELINE_BIN, vs_baseline: ratios} : {})})}`);
  process.exit(0);
}

void main();
