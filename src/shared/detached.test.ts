import {setFlagsFromString, getHeapStatistics} from 'node:v8';
import {runInNewContext} from 'node:vm';
import {describe, expect, it} from 'vitest';
import {detached} from './detached.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap bytes still in use after keeping `keep(parent)` of 200 parents of ~100,000 characters. */
function heldBy(keep: (parent: string) => string): number {
  gc();
  const before = getHeapStatistics().used_heap_size;
  const kept: string[] = [];
  for (let i = 0; i < 200; i++) {
    const parent = `${i}:${'the model serves requests '.repeat(4000)}${i}`;
    parent.charCodeAt(50_000); // flat, as a rendered prompt is by the time it is encoded
    kept.push(keep(parent));
  }
  gc();
  const held = getHeapStatistics().used_heap_size - before;
  expect(new Set(kept).size).toBe(200);
  return held;
}

describe('detached', () => {
  it('is the same text, whatever its characters', () => {
    for (const s of ['', 'plain ascii', 'café ½ naïve', '東京 🙂 العربية', 'lone \ud800 high', 'lone \udc00 low', '\0nul']) {
      expect(detached(s)).toBe(s);
      expect(detached(`xx${s}yy`.slice(2, -2))).toBe(s);
    }
  });

  it('keeps only its own characters, where a slice keeps its whole parent', () => {
    const slices = heldBy((p) => p.slice(0, 60));
    const copies = heldBy((p) => detached(p.slice(0, 60)));
    // 200 parents are ~20 MB; 200 copies of 60 characters a few KB.
    expect(slices).toBeGreaterThan(10_000_000);
    expect(copies).toBeLessThan(2_000_000);
  });
});
