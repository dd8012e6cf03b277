/**
 * One overload run on the built binary, shared by `npm run bench:overload` and
 * test/overload.integration.test.ts: `dynamo up` with two small mocker workers of an 8B model
 * (8 sequences, 256 prefill tokens a step each), its unloaded TTFT (sequential streams), then `lanes` clients
 * sending streamed completions back to back for `seconds` (a closed loop ~10× what the workers
 * run at once; a refused client waits as Retry-After says, as SDKs do), with admission control
 * (token-capacity, and busy past 2 requests in flight per worker) or without (no limit: the
 * router queue takes everything). Every request ends in one of: completed, refused with a status
 * (and whether Retry-After came with it), or another error. The frontend's RSS and the router
 * queue are sampled every 200 ms.
 */
import {readFileSync} from 'node:fs';
import OpenAI from 'openai';
import {dynamo, startUntil} from '../../test/helpers/cli.js';
import {freePort, freePortRange, tempDir} from '../../test/helpers/processes.js';

// An 8B model's step times (the mocker's reference): the workers, not this machine's CPU, are the bottleneck.
const MODEL = process.env.OVERLOAD_MODEL ?? 'llama-3.1-8b';
const PROMPT = (i: number) => `Request ${i}. ${'Summarize the state of the cache and the router in one line. '.repeat(6)}`;

export interface OverloadOptions {
  admission: boolean;
  seconds: number;
  lanes: number;
  name: string;
}

export interface OverloadResult {
  admission: boolean;
  seconds: number;
  lanes: number;
  unloadedTtftMs: number;
  completed: number;
  /** Refused with a status: by status. */
  refused: Record<string, number>;
  refusedWithoutRetryAfter: number;
  otherErrors: string[];
  acceptedTtftP50Ms: number;
  acceptedTtftP90Ms: number;
  frontendRssPeakMb: number;
  queuePeak: number;
  frontendRestarts: number;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const rssMb = (pid: number) => {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};

export async function runOverload(o: OverloadOptions): Promise<OverloadResult> {
  const home = tempDir();
  const env = {
    DYN_HOME: home,
    DYN_WORKERS_BASE_PORT: String(await freePortRange(4)),
    DYN_MOCKER_MAX_NUM_SEQS: '8',
    DYN_MOCKER_MAX_NUM_BATCHED_TOKENS: '256',
    DYN_ROUTER_QUEUE_THRESHOLD: '1',
    // Admission control: a worker is busy past 2 requests in flight, where its TTFT is still near
    // the unloaded one (the mocker's steps grow with the batch; an operator sets this for a TTFT goal).
    ...(o.admission ? {DYN_ROUTER_BUSY_MAX_INFLIGHT: '2'} : {}),
  };
  const port = await freePort();
  const args = ['up', '--model', MODEL, '--workers', '2', '--port', String(port), '--name', o.name, '--admission-control', o.admission ? 'token-capacity' : 'none'];
  const up = await startUntil(args, /ready in/, {env, timeoutMs: 60_000});
  const client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0, timeout: 120_000});
  const processes = async () => (JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; pid: number; restarts: number}[]}[])[0]!.processes;
  try {
    /** One streamed completion: its TTFT, or how it was refused. */
    const one = async (i: number): Promise<{ttftMs: number} | {status: number; retryAfter?: number} | {error: string}> => {
      const t = performance.now();
      try {
        const stream = await client.completions.create({model: MODEL, prompt: PROMPT(i), max_tokens: 32, stream: true, seed: i});
        let ttftMs = Number.NaN;
        for await (const c of stream) if (Number.isNaN(ttftMs) && c.choices[0]?.text) ttftMs = performance.now() - t;
        return {ttftMs};
      } catch (e) {
        const err = e as {status?: number; headers?: Headers | Record<string, string>; message: string};
        if (err.status) {
          const h = err.headers as Headers | Record<string, string> | undefined;
          const retryAfter = h instanceof Headers ? h.get('retry-after') : h?.['retry-after'];
          return {status: err.status, retryAfter: retryAfter ? Number(retryAfter) : undefined};
        }
        return {error: err.message};
      }
    };

    const unloaded: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await one(-1 - i);
      if ('ttftMs' in r) unloaded.push(r.ttftMs);
    }

    const frontendPid = (await processes()).find((p) => p.id === 'frontend')!.pid;
    let rssPeak = rssMb(frontendPid);
    let queuePeak = 0;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMb(frontendPid));
      void fetch(`http://127.0.0.1:${port}/metrics`)
        .then((r) => r.text())
        .then((m) => (queuePeak = Math.max(queuePeak, Number(/^dynamo_router_queue_pending_requests(?:\{\})? (\S+)$/m.exec(m)?.[1] ?? 0))))
        .catch(() => {});
    }, 200);

    const result = {completed: 0, refused: {} as Record<string, number>, refusedWithoutRetryAfter: 0, otherErrors: [] as string[], ttfts: [] as number[]};
    const end = Date.now() + o.seconds * 1000;
    let next = 0;
    // Clients arrive over the first second and back off as Retry-After says plus a little jitter, as
    // SDKs do: a closed loop started at one instant would send every retry in one burst.
    const jitter = (ms: number) => new Promise((res) => setTimeout(res, Math.random() * ms));
    await Promise.all(
      Array.from({length: o.lanes}, async () => {
        await jitter(1000);
        while (Date.now() < end) {
          const r = await one(next++);
          if ('ttftMs' in r) {
            result.completed++;
            result.ttfts.push(r.ttftMs);
          } else if ('status' in r) {
            result.refused[r.status] = (result.refused[r.status] ?? 0) + 1;
            if (r.retryAfter === undefined) result.refusedWithoutRetryAfter++;
            await new Promise((res) => setTimeout(res, (r.retryAfter ?? 1) * 1000));
            await jitter(250);
          } else result.otherErrors.push(r.error);
        }
      }),
    );
    clearInterval(sampler);
    const restarts = (await processes()).find((p) => p.id === 'frontend')!.restarts;
    return {
      admission: o.admission,
      seconds: o.seconds,
      lanes: o.lanes,
      unloadedTtftMs: pct(unloaded, 50),
      completed: result.completed,
      refused: result.refused,
      refusedWithoutRetryAfter: result.refusedWithoutRetryAfter,
      otherErrors: [...new Set(result.otherErrors)],
      acceptedTtftP50Ms: pct(result.ttfts, 50),
      acceptedTtftP90Ms: pct(result.ttfts, 90),
      frontendRssPeakMb: rssPeak,
      queuePeak,
      frontendRestarts: restarts,
    };
  } finally {
    up.child.kill('SIGTERM');
    await up.child;
  }
}
