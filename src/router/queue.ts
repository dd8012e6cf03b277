/**
 * Dynamo's router queue (backpressure, not rejection): while every worker is saturated, requests
 * wait here in arrival order (fcfs, Dynamo's default policy) instead of piling onto engines. A
 * worker is saturated when its pending prefill tokens exceed `threshold × max_num_batched_tokens`
 * (the router's own bookkeeping decides; see KvRouter.saturated). Waiting requests are released one
 * at a time as load changes (a first token, a finish), each after the previous one was routed, and
 * on a periodic recheck.
 *
 * With a capacity (admission control, token-capacity), the queue holds at most that many prompt
 * tokens: a request that would overflow it is refused at once (QueueFull) rather than parked.
 */
export class QueueFull extends Error {
  readonly kind = 'queue_full';
}

export class RouterQueue {
  private readonly waiting: {tokens: number; release: () => void}[] = [];
  private timer?: NodeJS.Timeout;
  private waitingTokens = 0;

  constructor(
    private readonly saturated: () => boolean,
    private readonly opts: {recheckMs?: number; capacityTokens?: () => number} = {},
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  get pendingTokens(): number {
    return this.waitingTokens;
  }

  /** Resolves when the request may be routed: at once when nobody waits and the workers have room. Throws QueueFull past the capacity. */
  admit(tokens: number, signal?: AbortSignal): Promise<void> {
    if (!this.waiting.length && !this.saturated()) return Promise.resolve();
    const capacity = this.opts.capacityTokens?.();
    if (capacity !== undefined && this.waitingTokens + tokens > capacity) {
      return Promise.reject(new QueueFull(`every worker is saturated and ${this.waiting.length} request(s) of ${this.waitingTokens} prompt tokens already wait`));
    }
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          this.waitingTokens -= tokens;
        }
      };
      const entry = {
        tokens,
        release: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason ?? new Error('cancelled'));
      };
      signal?.addEventListener('abort', onAbort, {once: true});
      this.waiting.push(entry);
      this.waitingTokens += tokens;
      this.timer ??= setInterval(() => this.wake(), this.opts.recheckMs ?? 1000);
      this.timer.unref?.();
    });
  }

  /** Load changed, or the last released request was routed: release the next one if it fits. */
  wake(): void {
    if (this.waiting.length && !this.saturated()) {
      const next = this.waiting.shift()!;
      this.waitingTokens -= next.tokens;
      next.release();
    }
    if (!this.waiting.length && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
