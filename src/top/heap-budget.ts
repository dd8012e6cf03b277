/**
 * Keeps `top` inside its memory budget. Each refresh leaves about a page of garbage per source;
 * JavaScriptCore frees what survived a young collection only at a full one, which its own
 * schedule, sized for servers, runs late: between them RSS at 64 sources rose 15–20 MB. After
 * each refresh this compares the heap in use with what the last full collection left, and
 * collects at once when the growth passes the budget (at 64 sources the heap drifts about
 * 0.3 MB/s: one collection of ~20 ms about every 30 s). Measured in docs/top.md ("Cost").
 *
 * Pure: the probe (heap in use, a full collection) is injected; `bunHeapProbe` is the real one.
 */

export interface HeapProbe {
  /** Bytes of the heap in use, garbage included until it is collected. */
  used(): number;
  /** A full, synchronous collection. */
  collect(): void;
}

/** Growth past the last full collection that triggers the next one. */
export const DEFAULT_HEAP_BUDGET_BYTES = 8 * 1024 * 1024;

export class HeapBudget {
  /** What the last collection (ours or the runtime's) left: the lowest use seen since ours. */
  private floor: number | undefined;

  constructor(
    private readonly probe: HeapProbe,
    private readonly budgetBytes = DEFAULT_HEAP_BUDGET_BYTES,
  ) {}

  /** Called after each refresh; returns whether it collected. */
  check(): boolean {
    const used = this.probe.used();
    if (this.floor === undefined || used < this.floor) {
      this.floor = used;
      return false;
    }
    if (used - this.floor <= this.budgetBytes) return false;
    this.probe.collect();
    this.floor = this.probe.used();
    return true;
  }
}

/** The probe inside the Bun binary; undefined elsewhere (under node the runtime's schedule stands). */
export function bunHeapProbe(): HeapProbe | undefined {
  const bun = (globalThis as {Bun?: {gc(sync: boolean): void}}).Bun;
  if (!bun) return undefined;
  return {used: () => process.memoryUsage().heapUsed, collect: () => bun.gc(true)};
}
