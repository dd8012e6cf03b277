/**
 * Dynamo's router queue (backpressure, not rejection): while every worker is saturated, requests
 * wait here in arrival order (fcfs, Dynamo's default policy) instead of piling onto engines. A
 * worker is saturated when its pending prefill tokens exceed `threshold × max_num_batched_tokens`
 * (the router's own bookkeeping decides; see KvRouter.saturated). Waiting requests are released one
 * at a time as load changes (a first token, a finish), each after the previous one was routed, and
 * on a periodic recheck.
 */
export class RouterQueue {
  private readonly waiting: {release: () => void}[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly saturated: () => boolean,
    private readonly recheckMs = 1000,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  /** Resolves when the request may be routed: at once when nobody waits and the workers have room. */
  admit(signal?: AbortSignal): Promise<void> {
    if (!this.waiting.length && !this.saturated()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry = {
        release: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason ?? new Error('cancelled'));
      };
      signal?.addEventListener('abort', onAbort, {once: true});
      this.waiting.push(entry);
      this.timer ??= setInterval(() => this.wake(), this.recheckMs);
      this.timer.unref?.();
    });
  }

  /** Load changed, or the last released request was routed: release the next one if it fits. */
  wake(): void {
    if (this.waiting.length && !this.saturated()) this.waiting.shift()!.release();
    if (!this.waiting.length && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
