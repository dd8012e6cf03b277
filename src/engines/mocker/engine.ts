/**
 * The mocker's real-time loop: plan a step with the scheduler, wait for its modelled duration
 * (divided by the speedup; against absolute deadlines so waits do not drift), apply it, and hand
 * each produced token to its request's stream. Cancelling a stream removes the request and frees
 * its blocks at once.
 */
import {scaledMs} from './perf-model.js';
import type {FinishReason, MockRequest, MockScheduler, TokenOutput} from './scheduler.js';

export interface GenerateChunk {
  tokenIds: number[];
  cachedTokens?: number;
  finishReason?: FinishReason;
}

/** With no modelled waiting, the longest the loop runs before letting I/O in. */
const MAX_BUSY_MS = 2;

interface Pending {
  queue: TokenOutput[];
  wake?: () => void;
}

export class MockerEngine {
  private readonly pending = new Map<string, Pending>();
  private looping = false;
  private wakeLoop?: () => void;
  /** Called after every step, or once for a run of quiet steps (metrics). */
  onStep?: (info: {prefillTokens: number; decodeSeqs: number; durationMs: number}) => void;

  /** An infinite speedup: no step is waited for. */
  private readonly instant: boolean;

  constructor(
    readonly scheduler: MockScheduler,
    private readonly speedupRatio: number,
  ) {
    this.instant = scaledMs(1, speedupRatio) === 0;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async *generate(req: MockRequest, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
    const p: Pending = {queue: []};
    this.pending.set(req.id, p);
    this.scheduler.add(req);
    this.kick();
    const onAbort = () => p.wake?.();
    signal?.addEventListener('abort', onAbort, {once: true});
    try {
      for (;;) {
        if (signal?.aborted) return;
        if (!p.queue.length) {
          await new Promise<void>((r) => (p.wake = r));
          p.wake = undefined;
          continue;
        }
        // Everything produced since the last read goes out as one chunk.
        const outs = p.queue.splice(0);
        const last = outs.at(-1)!;
        yield {tokenIds: outs.map((o) => o.token), cachedTokens: outs[0]!.cachedTokens, finishReason: last.finish};
        if (last.finish) return;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.pending.delete(req.id);
      this.scheduler.cancel(req.id); // no-op when it already finished
    }
  }

  private kick(): void {
    if (this.looping) {
      this.wakeLoop?.();
      return;
    }
    this.looping = true;
    void this.loop();
  }

  private deliver(outs: TokenOutput[]): void {
    for (const o of outs) {
      const p = this.pending.get(o.id);
      if (!p) continue;
      p.queue.push(o);
      p.wake?.();
    }
  }

  private async loop(): Promise<void> {
    let deadline = performance.now();
    try {
      for (;;) {
        const step = this.scheduler.schedule();
        if (!step) {
          if (this.scheduler.idle) return;
          // Work exists but nothing fits now (e.g. blocks held): wait for a change.
          await new Promise<void>((r) => {
            this.wakeLoop = r;
            setTimeout(r, 5);
          });
          deadline = performance.now();
          continue;
        }
        const ms = scaledMs(step.durationMs, this.speedupRatio);
        if (ms > 0) {
          deadline = Math.max(deadline, performance.now() - 50) + ms;
          const wait = deadline - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          else await new Promise((r) => setImmediate(r));
        } else if (performance.now() - deadline > MAX_BUSY_MS) {
          // As fast as possible: run steps back to back (their tokens coalesce into one chunk per
          // stream), yielding to I/O every couple of milliseconds so new requests get in.
          await new Promise((r) => setImmediate(r));
          deadline = performance.now();
        }
        this.deliver(this.scheduler.complete(step));
        this.onStep?.({prefillTokens: step.prefillTokens, decodeSeqs: step.decode.length, durationMs: step.durationMs});
        // As fast as possible, the decode steps that change nothing but token counts run at once
        // (the scheduler says how many): their tokens, not a schedule and a complete per step.
        const quiet = this.instant ? this.scheduler.quietSteps() : 0;
        if (quiet > 0) {
          this.deliver(this.scheduler.runQuietTokens(quiet));
          this.onStep?.({prefillTokens: 0, decodeSeqs: this.scheduler.numRunning, durationMs: quiet * this.scheduler.quietStepMs()});
        }
      }
    } finally {
      this.looping = false;
      this.wakeLoop = undefined;
    }
  }
}
