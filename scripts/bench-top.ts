// npm run bench:top — what `dynamo top` costs the machine it watches from: the built binary, live
// in a real terminal (tmux), refreshing every second, against 8 and against 64 fake metrics
// endpoints in the same run. Each endpoint serves a recorded vLLM page (or, one in eight, a Dynamo
// frontend page) advanced second by second, as a loaded server would. Measured from /proc over
// SECONDS after WARMUP seconds: CPU (% of one core, and ms per refresh) and resident memory (at the
// end, and the most seen, read every second). A third run at 64 sources is paused (key p): scrapes
// go on and no frame is drawn, so it shows what the data side costs apart from drawing.
// Target (issue 12): < 5 % of one core and < 100 MB RSS at 64 sources. Prints a table and a JSON record.
// WARMUP=40 measures after the 30 s window has filled and the JIT has settled (docs/top.md, "Cost").
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {type Server, createServer} from 'node:http';
import {join} from 'node:path';
import {type Advance, metricsSeries} from '../test/helpers/metrics-series.js';
import {freePort} from '../test/helpers/processes.js';

const ROOT = join(import.meta.dirname, '..');
// BIN=path/to/another/dynamo compares a build with the current one under the same conditions.
const BIN = process.env.BIN ?? join(ROOT, 'dist/dynamo');
const SECONDS = Number(process.env.SECONDS ?? 20);
const WARMUP_S = Number(process.env.WARMUP ?? 5);
const TICKS = 100; // USER_HZ
const SOCKET = `dynamo-bench-top-${process.pid}`;

if (!existsSync(BIN)) {
  console.error(`${BIN} is missing: run \`npm run build\` first`);
  process.exit(1);
}

/** One page per second of a steadily loaded server. */
function pages(file: string, advance: (i: number) => Advance): string[] {
  const base = readFileSync(join(ROOT, 'test/fixtures/metrics', file), 'utf8');
  return metricsSeries(base, Array.from({length: SECONDS + WARMUP_S + 30}, (_, i) => advance(i)));
}

const vllmPages = pages('vllm.prom', () => ({
  seconds: 1,
  rates: {'vllm:generation_tokens_total': 900, 'vllm:prompt_tokens_total': 4000, 'vllm:prefix_cache_queries_total': 4000, 'vllm:prefix_cache_hits_total': 1200},
  observe: {'vllm:time_to_first_token_seconds': [{perS: 4, value: 0.08}], 'vllm:inter_token_latency_seconds': [{perS: 900, value: 0.012}]},
  gauges: {'vllm:num_requests_running': 12, 'vllm:kv_cache_usage_perc': 0.4},
}));
const frontendPages = pages('dynamo-frontend.prom', () => ({
  seconds: 1,
  rates: {dynamo_frontend_output_tokens_total: 900},
  observe: {dynamo_frontend_time_to_first_token_seconds: [{perS: 4, value: 0.09}]},
}));

async function endpoints(n: number): Promise<{urls: string[]; close: () => void}> {
  const started = Date.now();
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const series = i % 8 === 7 ? frontendPages : vllmPages;
    const server = createServer((_req, res) => {
      const page = series[Math.min(series.length - 1, Math.floor((Date.now() - started) / 1000))]!;
      res.writeHead(200, {'content-type': 'text/plain; version=0.0.4'}).end(page);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    servers.push(server);
    urls.push(`http://127.0.0.1:${port}/metrics`);
  }
  return {
    urls,
    close: () => {
      for (const s of servers) s.close();
    },
  };
}

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], {encoding: 'utf8'});
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(n: number, paused = false) {
  const {urls, close} = await endpoints(n);
  try {
    tmux('new-session', '-d', '-s', 'top', '-x', '160', '-y', '50', `exec ${BIN} top --interval 1 ${urls.map((u) => `--url ${u}`).join(' ')}`);
    const pid = Number(tmux('list-panes', '-t', 'top', '-F', '#{pane_pid}').trim());
    await sleep(WARMUP_S * 1000);
    if (paused) {
      tmux('send-keys', '-t', 'top', 'p');
      await sleep(1000);
    }
    const t0 = performance.now();
    const c0 = cpuTicks(pid);
    let rssMax = 0;
    for (let s = 0; s < SECONDS; s++) {
      await sleep(1000);
      rssMax = Math.max(rssMax, rssMb(pid));
    }
    const wallS = (performance.now() - t0) / 1000;
    const cpuS = (cpuTicks(pid) - c0) / TICKS;
    const rss = rssMb(pid);
    const screen = tmux('capture-pane', '-p', '-t', 'top');
    tmux('send-keys', '-t', 'top', 'q');
    const up = (screen.match(/ up /g) ?? []).length;
    return {
      sources: n,
      paused,
      sources_up_on_screen: up,
      cpu_pct_of_core: +((100 * cpuS) / wallS).toFixed(2),
      cpu_ms_per_refresh: +((1000 * cpuS) / wallS).toFixed(1),
      rss_mb: +rss.toFixed(1),
      rss_mb_max: +Math.max(rssMax, rss).toFixed(1),
    };
  } finally {
    try {
      tmux('kill-server');
    } catch {}
    close();
  }
}

async function main() {
  const rows = [await measure(8), await measure(64), await measure(64, true)];
  const ratio = {cpu: +(rows[1]!.cpu_ms_per_refresh / rows[0]!.cpu_ms_per_refresh).toFixed(2), rss: +(rows[1]!.rss_mb / rows[0]!.rss_mb).toFixed(2)};
  const target = {cpu_pct: 5, rss_mb: 100, met: rows[1]!.cpu_pct_of_core < 5 && rows[1]!.rss_mb < 100};
  console.log(`bench:top — ${BIN} top --interval 1 in tmux, ${SECONDS} s measured after ${WARMUP_S} s\n`);
  console.log(`${'sources'.padEnd(16)} ${'CPU % of a core'.padStart(16)} ${'CPU ms/refresh'.padStart(15)} ${'RSS MB'.padStart(8)} ${'max RSS MB'.padStart(11)}`);
  for (const r of rows) {
    const label = `${r.sources}${r.paused ? ' (paused)' : ''}`;
    console.log(`${label.padEnd(16)} ${String(r.cpu_pct_of_core).padStart(16)} ${String(r.cpu_ms_per_refresh).padStart(15)} ${String(r.rss_mb).padStart(8)} ${String(r.rss_mb_max).padStart(11)}`);
  }
  console.log(`\n64 vs 8 sources: CPU ×${ratio.cpu}, RSS ×${ratio.rss}; target at 64: < ${target.cpu_pct} % of a core and < ${target.rss_mb} MB: ${target.met ? 'met' : 'NOT met'}`);
  console.log(`paused at 64 (scrapes only, no frames): ${rows[2]!.cpu_ms_per_refresh} of ${rows[1]!.cpu_ms_per_refresh} ms per refresh`);
  console.log(`\n${JSON.stringify({bench: 'top', seconds: SECONDS, warmup_s: WARMUP_S, results: rows, ratio_64_vs_8: ratio, target})}`);
}

void main();
