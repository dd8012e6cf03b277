// npm run bench:soak — a long steady load on the built binary, and every process's memory over it.
// `dynamo up --workers 2` on the mocker; CONCURRENCY (default 16) clients send streamed requests
// back to back for MINUTES (default 10): prompts from a few hundred shared documents, so prefixes
// repeat and the KV caches fill and evict as in production. The RSS of the frontend and of each
// worker is read from /proc every SAMPLE_S (default 5) seconds. After WARMUP_MINUTES (default a
// fifth of the run) it reports, per process: RSS then and at the end (medians of the first and of
// the last minute after warm-up), at most, the growth between the two (%) and the slope over the
// rest of the run (MB per minute, least squares). The goal:
// < 5 % growth after warm-up. Also: requests completed and failed, and each worker's KV blocks at
// the end (what fills while a cache warms), and each worker's JS heap floor (its lowest heapUsed,
// after collections) in the first and the last minute after warm-up: live data, apart from what
// the allocator keeps. Prints a table and a JSON record.
// MODEL, NUM_GPU_BLOCKS (the mocker's KV pool) and BIN may be set.
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import OpenAI from 'openai';
import {dynamo, startUntil} from '../test/helpers/cli.js';
import {freePort, freePortRange, tempDir} from '../test/helpers/processes.js';

const MINUTES = Number(process.env.MINUTES ?? 10);
const WARMUP_MIN = Number(process.env.WARMUP_MINUTES ?? MINUTES / 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const SAMPLE_S = Number(process.env.SAMPLE_S ?? 5);
const MODEL = process.env.MODEL ?? 'qwen3-0.6b';
const BIN = join(import.meta.dirname, '..', 'dist/dynamo');

if (!existsSync(BIN)) {
  console.error('dist/dynamo is missing: run `npm run build` first');
  process.exit(1);
}

const WORDS = 'cache router prefix worker token block engine stream model serve batch queue'.split(' ');
const doc = (d: number) => Array.from({length: 200 + (d % 7) * 40}, (_, k) => WORDS[(d * 5 + k * 3) % WORDS.length]).join(' ');
const rssMb = (pid: number) => {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return Number.NaN;
  }
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
};

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

const home = tempDir();
const port = await freePort();
const env: Record<string, string> = {DYN_HOME: home, DYN_WORKERS_BASE_PORT: String(await freePortRange(4))};
if (process.env.NUM_GPU_BLOCKS) env.DYN_MOCKER_NUM_GPU_BLOCKS = process.env.NUM_GPU_BLOCKS;
const up = await startUntil(['up', '--model', MODEL, '--workers', '2', '--port', String(port), '--name', 'soak'], /ready in/, {env, timeoutMs: 60_000});
try {
  const ps = (JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; pid: number; ports: Record<string, number>}[]}[])[0]!.processes;
  const procs = ps.filter((p) => p.id === 'frontend' || p.id.startsWith('agg-'));
  const samples = new Map<string, {t: number; mb: number}[]>(procs.map((p) => [p.id, []]));
  // Each worker's JS heap in use (its /health), to tell live data from memory the allocator keeps.
  const heaps = new Map<string, {t: number; mb: number}[]>(procs.filter((p) => p.id !== 'frontend').map((p) => [p.id, []]));
  const started = Date.now();
  const sample = () => {
    const t = (Date.now() - started) / 60_000;
    for (const p of procs) samples.get(p.id)!.push({t, mb: rssMb(p.pid)});
    for (const p of procs.filter((x) => heaps.has(x.id))) {
      void fetch(`http://127.0.0.1:${p.ports.metrics}/health`)
        .then((r) => r.json() as Promise<{memory?: {heap_used_mb: number}}>)
        .then((h) => h.memory && heaps.get(p.id)!.push({t, mb: h.memory.heap_used_mb}))
        .catch(() => {});
    }
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_S * 1000);

  const client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0});
  const tally = {completed: 0, failed: 0, errors: new Set<string>()};
  const end = started + MINUTES * 60_000;
  let next = 0;
  let lastReport = started;
  await Promise.all(
    Array.from({length: CONCURRENCY}, async () => {
      while (Date.now() < end) {
        const i = next++;
        try {
          const s = await client.completions.create({model: MODEL, prompt: `${doc(i % 300)}\nQuestion ${i}?`, max_tokens: 16 + (i % 48), stream: true, seed: i});
          for await (const _ of s);
          tally.completed++;
        } catch (e) {
          tally.failed++;
          tally.errors.add((e as Error).message);
        }
        if (Date.now() - lastReport > 60_000) {
          lastReport = Date.now();
          console.error(`  ${((Date.now() - started) / 60_000).toFixed(1)} min: ${tally.completed} completed, ${tally.failed} failed; RSS ${procs.map((p) => `${p.id} ${rssMb(p.pid).toFixed(0)} MB`).join(', ')}`);
        }
      }
    }),
  );
  clearInterval(sampler);
  sample();

  const kvBlocks = Object.fromEntries(
    await Promise.all(
      procs
        .filter((p) => p.id.startsWith('agg-'))
        .map(async (p) => [p.id, ((await (await fetch(`http://127.0.0.1:${p.ports.metrics}/health`)).json()) as {kv_blocks: unknown}).kv_blocks] as const),
    ),
  );
  const rows = procs.map((p) => {
    const s = samples.get(p.id)!;
    const after = s.filter((x) => x.t >= WARMUP_MIN);
    // Medians of the first and the last minute after warm-up: a single reading lands anywhere on
    // the sawtooth of a collected heap (±10 % seen), a minute's median does not.
    const atWarmup = median(after.filter((x) => x.t < WARMUP_MIN + 1).map((x) => x.mb));
    const last = median(after.filter((x) => x.t >= MINUTES - 1).map((x) => x.mb));
    const heap = heaps.get(p.id)?.filter((x) => x.t >= WARMUP_MIN);
    return {
      process: p.id,
      // The heap's low points (after collections) over the run after warm-up: first and last minute.
      heapFloorStartMb: heap?.length ? Math.min(...heap.filter((x) => x.t < WARMUP_MIN + 1).map((x) => x.mb)) : undefined,
      heapFloorEndMb: heap?.length ? Math.min(...heap.filter((x) => x.t >= MINUTES - 1).map((x) => x.mb)) : undefined,
      rssAtWarmupMb: atWarmup,
      rssEndMb: last,
      rssMaxMb: Math.max(...s.map((x) => x.mb)),
      growthAfterWarmupPct: ((last - atWarmup) / atWarmup) * 100,
      slopeMbPerMin: slope(
        after.map((x) => x.t),
        after.map((x) => x.mb),
      ),
    };
  });
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log(`soak: ${MINUTES} min (warm-up ${f(WARMUP_MIN)} min), ${CONCURRENCY} concurrent, ${MODEL}: ${tally.completed} completed, ${tally.failed} failed`);
  console.log(`${'process'.padEnd(10)}${'RSS warm MB'.padStart(13)}${'end MB'.padStart(10)}${'max MB'.padStart(10)}${'growth %'.padStart(10)}${'MB/min'.padStart(10)}${'heap floor MB'.padStart(16)}`);
  for (const r of rows) {
    const heap = r.heapFloorStartMb === undefined ? '-' : `${f(r.heapFloorStartMb, 0)} → ${f(r.heapFloorEndMb ?? Number.NaN, 0)}`;
    console.log(`${r.process.padEnd(10)}${f(r.rssAtWarmupMb).padStart(13)}${f(r.rssEndMb).padStart(10)}${f(r.rssMaxMb).padStart(10)}${f(r.growthAfterWarmupPct, 2).padStart(10)}${f(r.slopeMbPerMin, 2).padStart(10)}${heap.padStart(16)}`);
  }
  console.log(JSON.stringify({bench: 'soak', minutes: MINUTES, warmupMinutes: WARMUP_MIN, concurrency: CONCURRENCY, model: MODEL, completed: tally.completed, failed: tally.failed, errors: [...tally.errors].slice(0, 5), processes: rows, kvBlocks}));
} finally {
  up.child.kill('SIGTERM');
  await up.child;
}
