/**
 * Drives one bench run: releases requests closed loop (N in flight), open loop (arrival offsets)
 * or on a trace's schedule, runs multi-turn sessions, and stops on a request count or a duration.
 * Open-loop sends never wait for replies, only (optionally) for a concurrency ceiling, so a slow
 * server shows up as latency and a slow generator as schedule lag, each recorded per request.
 * The HTTP side is injected (`send`), so the driver is tested without a server.
 */
import type {ChatMessage} from '../tokenizer/chat-template.js';
import {type ArrivalPattern, arrivalOffsets} from './arrivals.js';
import type {Response} from './client.js';
import type {LoadPoint} from './profile.js';
import type {BenchTurn, Workload} from './workload.js';

export interface RequestRecord {
  session: number;
  turn: number;
  /** Planned send time, ms from the run's start (first turns of open-loop and schedule runs). */
  scheduledMs?: number;
  /** Actual send − planned send, ms. */
  lagMs?: number;
  messages: ChatMessage[];
  maxTokens: number;
  plannedInputTokens?: number;
  response: Response;
}

export type SendFn = (messages: ChatMessage[], maxTokens: number, cancel: AbortSignal) => Promise<Response>;

export interface RunOptions {
  point: LoadPoint;
  workload: Workload;
  send: SendFn;
  requestCount?: number;
  durationMs?: number;
  graceMs: number;
  arrival: ArrivalPattern;
  seed: number;
  /** First session index (warm-up runs use a range of their own). */
  firstSession?: number;
  /** Stops the run now (Ctrl-C): no more sends, in-flight requests cancelled. */
  stop?: AbortSignal;
  onRecord?: (r: RequestRecord) => void;
}

export interface RunResult {
  /** performance.now() at the start; record times are on the same clock. */
  startedAt: number;
  wallMs: number;
  records: RequestRecord[];
  /** Requests the run meant to send (undefined for duration-bound runs). */
  planned?: number;
  interrupted: boolean;
}

/**
 * How early a timer must wake to be on time: timers fire late, by up to ~10 ms on a busy or
 * virtualized machine. Learned from the lateness seen: it jumps up at once and decays slowly
 * (half-life ~1,400 wakes), because one late wake per hundred already spoils p99 lag. The price is
 * CPU: up to one core spinning at high rates (measured by `npm run bench:loadgen`).
 */
let timerSlackMs = 10;

/**
 * Resolves at `due` (performance.now() ms) with sub-millisecond precision: a timer sleeps until
 * `timerSlackMs` before, then setImmediate turns poll the clock while I/O keeps being served
 * between them (a short spin, the price of precise open-loop sends).
 */
export async function sleepUntil(due: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const left = due - performance.now();
    if (left <= 0 || signal?.aborted) return;
    if (left > timerSlackMs + 1) {
      const wake = due - timerSlackMs;
      await new Promise<void>((r) => setTimeout(r, wake - performance.now()));
      const late = performance.now() - wake;
      timerSlackMs = Math.min(50, Math.max(2, late + 1, timerSlackMs * 0.9995));
    } else await new Promise<void>((r) => setImmediate(r));
  }
}

const DEFAULT_COUNT = 100;

/** Requests a run will send: the count asked for, else a trace's length or 100; undefined when only a duration bounds it. */
export function plannedRequests(point: LoadPoint, workload: Workload, requestCount?: number, durationMs?: number): number | undefined {
  if (requestCount !== undefined) return requestCount;
  if (durationMs) return undefined;
  return point.mode === 'schedule' ? (workload.size ?? DEFAULT_COUNT) : DEFAULT_COUNT;
}

/** A trace's send offsets (ms from the first request), compressed by `speedup`. */
function scheduleOffsets(w: Workload, first: number, count: number, speedup: number): number[] {
  const at = Array.from({length: count}, (_, i) => w.arrivalMs?.(first + i) ?? 0);
  const t0 = at.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  return at.map((a) => (a - t0) / speedup);
}

export async function runLoad(o: RunOptions): Promise<RunResult> {
  const {point, workload} = o;
  const records: RequestRecord[] = [];
  const inflightCancel = new AbortController();
  const dispatchStop = new AbortController();
  const onStop = () => {
    dispatchStop.abort();
    inflightCancel.abort();
  };
  o.stop?.addEventListener('abort', onStop, {once: true});
  const scheduled = point.mode !== 'concurrency';
  const planned = plannedRequests(point, workload, o.requestCount, o.durationMs);
  let budget = planned ?? Number.POSITIVE_INFINITY;
  const startedAt = performance.now();
  const deadline = o.durationMs ? startedAt + o.durationMs : Number.POSITIVE_INFINITY;
  const canSend = () => budget > 0 && !dispatchStop.signal.aborted && performance.now() < deadline;
  const first = o.firstSession ?? 0;

  /** Runs a session's turns in order; `offsetMs` = planned send of its first turn, from the start. */
  const runSession = async (index: number, offsetMs?: number) => {
    const s = workload.session(index);
    const history: ChatMessage[] = [];
    let prevEnd = 0;
    for (let t = 0; t < s.turns.length; t++) {
      const turn: BenchTurn = s.turns[t]!;
      if (!canSend()) return;
      if (t > 0 && turn.thinkMs) await sleepUntil(prevEnd + turn.thinkMs, dispatchStop.signal);
      if (!canSend()) return;
      budget--;
      const messages = typeof turn.content === 'string' ? [...history, {role: 'user', content: turn.content}] : turn.content;
      const response = await o.send(messages, turn.maxTokens, inflightCancel.signal);
      const rec: RequestRecord = {
        session: index,
        turn: t,
        // The planned offset as planned (startedAt + offset − startedAt is not always the offset in floats).
        ...(t === 0 && offsetMs !== undefined ? {scheduledMs: offsetMs, lagMs: response.start - (startedAt + offsetMs)} : {}),
        messages,
        maxTokens: turn.maxTokens,
        ...(turn.plannedInputTokens !== undefined ? {plannedInputTokens: turn.plannedInputTokens} : {}),
        response,
      };
      records.push(rec);
      o.onRecord?.(rec);
      if (response.error) return;
      history.splice(0, history.length, ...messages, {role: 'assistant', content: response.text});
      prevEnd = performance.now();
    }
  };

  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  if (!scheduled) {
    let next = first;
    const worker = async () => {
      while (canSend()) await runSession(next++);
    };
    for (let i = 0; i < point.concurrency; i++) track(worker());
  } else {
    const ceiling = point.concurrency ?? Number.POSITIVE_INFINITY;
    const count = point.mode === 'schedule' ? Math.min(workload.size ?? DEFAULT_COUNT, budget) : Number.isFinite(budget) ? budget : Math.ceil((point.requestRate * (o.durationMs ?? 0)) / 1000) * 2 + 16;
    const offsets =
      point.mode === 'rate'
        ? arrivalOffsets(count, point.requestRate, o.arrival, o.seed)
        : scheduleOffsets(workload, first, count, point.speedup);
    let waiting: (() => void) | undefined;
    for (let i = 0; i < offsets.length && canSend(); i++) {
      const due = startedAt + offsets[i]!;
      await sleepUntil(due, dispatchStop.signal);
      while (inflight.size >= ceiling && !dispatchStop.signal.aborted) await new Promise<void>((r) => (waiting = r));
      if (!canSend()) break;
      const p = runSession(first + i, offsets[i]);
      track(p);
      void p.finally(() => {
        const w = waiting;
        waiting = undefined;
        w?.();
      });
    }
  }

  const settled = Promise.all([...inflight]).then(async () => {
    // Closed-loop workers and sessions may have started more work while we waited.
    while (inflight.size) await Promise.all([...inflight]);
  });
  if (o.durationMs) {
    // Duration runs: when sending stops, in-flight requests get the grace period, then are cancelled.
    const quit = new AbortController();
    await Promise.race([settled, sleepUntil(deadline, AbortSignal.any([quit.signal, dispatchStop.signal]))]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise<void>((r) => (timer = setTimeout(r, o.graceMs)))]);
    quit.abort();
    clearTimeout(timer);
    if (inflight.size) inflightCancel.abort();
  }
  await settled;
  o.stop?.removeEventListener('abort', onStop);
  return {startedAt, wallMs: performance.now() - startedAt, records, ...(planned !== undefined ? {planned} : {}), interrupted: !!o.stop?.aborted};
}
