/**
 * Test gates for the socket tests: wait for a thing to happen, with a deadline, never a bare sleep.
 * (Used by tests only; nothing in the product imports it.)
 */

/** Resolves with `p`, or rejects after `ms` naming `what`; a late rejection of `p` is swallowed. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  p.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Collects items pushed by callbacks; `next` and `until` wait for them in order. */
export class Inbox<T> {
  readonly items: T[] = [];
  private read = 0;
  private wake?: () => void;

  readonly push = (item: T): void => {
    this.items.push(item);
    this.wake?.();
  };

  /** The next item not yet taken by `next`. */
  async next(what: string, ms = 3000): Promise<T> {
    await this.until(() => this.items.length > this.read, what, ms);
    return this.items[this.read++]!;
  }

  /** Waits until `cond` holds, re-checking whenever an item arrives. */
  until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
    const wait = new Promise<void>((resolve) => {
      const check = () => {
        if (!cond()) return;
        this.wake = undefined;
        resolve();
      };
      this.wake = check;
      check();
    });
    return withTimeout(wait, ms, what);
  }
}
