import {describe, expect, it} from 'vitest';
import {HeapBudget, type HeapProbe} from './heap-budget.js';

const MB = 1024 * 1024;

/** A heap whose use the test sets; a collection brings it down to `live`. */
function fakeHeap(live: number) {
  const heap = {live, used: live, collections: 0};
  const probe: HeapProbe = {
    used: () => heap.used,
    collect: () => {
      heap.collections++;
      heap.used = heap.live;
    },
  };
  return {heap, probe};
}

describe('HeapBudget', () => {
  it('collects once garbage passes the budget, not before', () => {
    const {heap, probe} = fakeHeap(40 * MB);
    const budget = new HeapBudget(probe, 10 * MB);
    expect(budget.check()).toBe(false); // the first reading sets the floor
    heap.used += 6 * MB;
    expect(budget.check()).toBe(false);
    heap.used += 6 * MB;
    expect(budget.check()).toBe(true);
    expect(heap.collections).toBe(1);
    expect(heap.used).toBe(40 * MB);
  });

  it('follows live data that grows: the floor is what a collection leaves', () => {
    const {heap, probe} = fakeHeap(40 * MB);
    const budget = new HeapBudget(probe, 10 * MB);
    budget.check();
    heap.live = 55 * MB; // the window filled
    heap.used = 56 * MB;
    expect(budget.check()).toBe(true);
    heap.used = 60 * MB; // 5 MB of garbage above the new live size: within the budget
    expect(budget.check()).toBe(false);
    expect(heap.collections).toBe(1);
  });

  it("takes the runtime's own collections as the floor", () => {
    const {heap, probe} = fakeHeap(40 * MB);
    const budget = new HeapBudget(probe, 10 * MB);
    heap.used = 48 * MB;
    budget.check();
    heap.used = 41 * MB; // the runtime collected
    expect(budget.check()).toBe(false);
    heap.used = 52 * MB; // 11 MB past 41
    expect(budget.check()).toBe(true);
    expect(heap.collections).toBe(1);
  });
});
