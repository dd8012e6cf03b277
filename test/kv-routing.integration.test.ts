/**
 * KV-aware routing end to end: the same shared-prefix workload against `dynamo up` with 4 mocker
 * workers, routed round-robin and then kv, side by side. kv must serve more prompt tokens from the
 * workers' prefix caches (usage.cached_tokens) and reach the first token sooner.
 */
import OpenAI from 'openai';
import {describe, expect, it} from 'vitest';
import {startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir} from './helpers/processes.js';

// 7 groups on 4 workers: coprime, so round-robin is not accidentally prefix-affine.
const GROUPS = 7;
const PER_GROUP = 6;
const CONCURRENCY = 2;
const WORDS = 'route cache block prefix worker token model serve load time'.split(' ');

/** Groups sharing a ~1,500-token document each, with a short unique question per request. */
function workload(): {content: string}[] {
  const docs = Array.from({length: GROUPS}, (_, g) => `Document ${g}. ${Array.from({length: 1500}, (_, i) => WORDS[(g * 7 + i * 3) % WORDS.length]).join(' ')}`);
  const out: {content: string}[] = [];
  // Interleaved, as traffic arrives: each group's requests are spread over the run.
  for (let i = 0; i < PER_GROUP; i++) for (let g = 0; g < GROUPS; g++) out.push({content: `${docs[g]}\nQuestion ${i} about group ${g}?`});
  return out;
}

async function run(mode: string, kvEvents = true): Promise<{cachedShare: number; meanTtftMs: number; decisionMs: number}> {
  const port = await freePort();
  const up = await startUntil(['up', '--model', 'deepseek-r1', '--workers', '4', '--port', String(port), '--router-mode', mode, '--name', `${mode}-${kvEvents}`], /ready in/, {
    env: {DYN_HOME: tempDir(), DYN_WORKERS_BASE_PORT: String(await freePortRange(8)), DYN_ROUTER_KV_EVENTS: String(kvEvents)},
    timeoutMs: 60_000,
  });
  try {
    const client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0});
    let cached = 0;
    let prompt = 0;
    const ttfts: number[] = [];
    const queue = workload();
    await Promise.all(
      Array.from({length: CONCURRENCY}, async () => {
        for (let item = queue.shift(); item; item = queue.shift()) {
          const t0 = performance.now();
          const stream = await client.chat.completions.create({
            model: 'deepseek-r1',
            messages: [{role: 'user', content: item.content}],
            max_tokens: 2,
            stream: true,
            stream_options: {include_usage: true},
          });
          let first = 0;
          for await (const c of stream) {
            const d = c.choices[0]?.delta as {content?: string; reasoning_content?: string} | undefined;
            if (!first && (d?.content || d?.reasoning_content)) first = performance.now() - t0;
            if (c.usage) {
              cached += c.usage.prompt_tokens_details?.cached_tokens ?? 0;
              prompt += c.usage.prompt_tokens;
            }
          }
          ttfts.push(first);
        }
      }),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const decisions = [...metrics.matchAll(/^dynamo_router_decisions_total\{router_mode="([^"]+)",worker_id="[^"]+"\} (\d+)/gm)];
    const label = mode === 'kv' && !kvEvents ? 'kv-approx' : mode;
    expect(decisions.map((m) => m[1])).toEqual(decisions.map(() => label));
    expect(decisions.reduce((n, m) => n + Number(m[2]), 0)).toBe(GROUPS * PER_GROUP);
    if (mode === 'kv') expect(metrics).toMatch(/^dynamo_router_overlap_blocks_count\{worker_id="agg-\d"\} \d+/m);
    expect(metrics).toContain('dynamo_router_overhead_total_ms_bucket');
    // Per-worker cached share adds up to what the clients saw in usage.
    const perWorker = (name: string) => [...metrics.matchAll(new RegExp(`^${name}\\{worker_id="[^"]+"\\} (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    expect(perWorker('dynamo_router_prompt_tokens_total')).toBe(prompt);
    expect(perWorker('dynamo_router_cached_tokens_total')).toBe(cached);
    expect(metrics).toMatch(/^dynamo_router_queue_pending_requests 0/m);
    const sum = Number(/^dynamo_router_overhead_total_ms_sum\{[^}]*\} ([\d.e-]+)/m.exec(metrics)?.[1]);
    const count = Number(/^dynamo_router_overhead_total_ms_count\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
    return {cachedShare: cached / prompt, meanTtftMs: ttfts.reduce((a, b) => a + b, 0) / ttfts.length, decisionMs: sum / count};
  } finally {
    up.child.kill('SIGTERM');
    await up.child;
  }
}

describe('KV-aware routing vs round-robin (4 mocker workers)', () => {
  requireBinary();
  // Two deployments at modelled (real-time) speed: give it room on a shared 2-core machine.
  it('serves more cached prompt tokens and a faster first token with --router-mode kv (KV events, and approximate)', {timeout: 300_000}, async () => {
    const rr = await run('round-robin');
    const kv = await run('kv');
    const approx = await run('kv', false);
    const fmt = (r: typeof rr) => `cached ${(r.cachedShare * 100).toFixed(1)} %, mean TTFT ${r.meanTtftMs.toFixed(1)} ms, decision ${r.decisionMs.toFixed(3)} ms`;
    console.log(`round-robin: ${fmt(rr)}; kv (events): ${fmt(kv)}; kv (approximate): ${fmt(approx)}`);
    for (const k of [kv, approx]) {
      expect(k.cachedShare).toBeGreaterThan(rr.cachedShare + 0.1);
      expect(k.meanTtftMs).toBeLessThan(rr.meanTtftMs);
    }
  });
});
