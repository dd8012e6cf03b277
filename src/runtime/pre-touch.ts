/**
 * Pre-touching a serving process's heap at start, as the JVM's `-XX:+AlwaysPreTouch` does: the
 * process allocates `mb` of the kinds of memory a request allocates (JS cells, array storage,
 * string buffers), drops it and collects. The pages stay resident because the serving runtime
 * keeps what it frees (`MIMALLOC_PURGE_DELAY=-1`, supervisor/plan.ts), and the heap's growth while
 * serving reuses them instead of faulting fresh ones in.
 * Why: on a VM the first touch of a page can cost ~10 µs (10.7 µs per 4 KB page on this project's
 * 2-vCPU VM, whose host takes back free guest memory), and a frontend filling its caches grows by
 * ~15 KB a request: 3–6 faults, 30–60 µs, on the request's own path (docs/serving.md).
 */

/**
 * Whether pre-touched memory stays with the process: Bun's allocator told not to give freed pages
 * back. Under node (tests, `npm run dev`) V8 sizes and returns its heap by its own rules.
 */
export function allocatorKeepsFreedMemory(env: Readonly<Record<string, string | undefined>> = process.env, onBun = !!process.versions.bun): boolean {
  return onBun && env.MIMALLOC_PURGE_DELAY === '-1';
}

/**
 * Steps per megabyte: each allocates 400 small objects, a 2,000-element array and a 16,000-character
 * string. Measured on the binary, 24 a megabyte raise the peak resident memory by about the size
 * asked (256 → +240 MB, 512 → +610 MB); 16 touched half of it.
 */
const STEPS_PER_MB = 24;

/**
 * Touches about `mb` megabytes of heap, then lets it go: `collect` (a full collection) runs on a
 * later turn of the event loop, because a collector that scans the stack conservatively (JSC's)
 * still finds the memory through the frame that allocated it, keeps all of it, and then sizes the
 * heap for that much live data: the process grew a gigabyte before its next collection.
 */
export async function preTouchHeap(mb: number, collect: () => void): Promise<void> {
  touch(mb);
  await new Promise((resolve) => setImmediate(resolve));
  collect();
}

/** Allocates and holds ~`mb` megabytes until it returns (all of it live at once, so every page is written). */
function touch(mb: number): void {
  const held: unknown[] = [];
  for (let i = 0; i < mb * STEPS_PER_MB; i++) {
    const cells = new Array(400);
    for (let j = 0; j < cells.length; j++) cells[j] = {a: j, b: i, c: 'x'};
    held.push(cells, new Array(2000).fill(i), `${i}`.padEnd(16_000, 'y'));
  }
}
