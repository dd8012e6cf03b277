import {beforeAll, describe, expect, it} from 'vitest';
import type {BlockHasher} from '../../kv/block-hasher.js';
import {DynamoBlockHasher} from '../../kv/dynamo-hash.js';
import type {KvEventData} from '../../kv/events.js';
import {SlotCache} from './slots.js';

let hasher: BlockHasher;
beforeAll(async () => {
  hasher = await DynamoBlockHasher.create(4);
});

const HEADER = [1, 2, 3];
const conversation = (id: number, n: number) => [...HEADER, ...Array.from({length: n}, (_, i) => id * 1000 + i)];

/** Places, occupies, appends the rest of the prompt and releases: one finished request. */
function serve(cache: SlotCache, prompt: number[]) {
  const p = cache.place(prompt)!;
  cache.occupy(p);
  cache.append(p.slot, prompt.slice(p.keep));
  cache.release(p.slot);
  return p;
}

describe('SlotCache', () => {
  it('gives a new conversation an empty slot rather than one whose only common part is the template header', () => {
    const cache = new SlotCache(2, 100, hasher);
    const a = serve(cache, conversation(1, 20));
    const b = serve(cache, conversation(2, 20));
    // The header's cells are shared, not recomputed: the empty slot takes them from the other.
    expect(b).toEqual({slot: 1 - a.slot, keep: HEADER.length, copyFrom: a.slot});
    // Each conversation's next turn finds its own slot.
    expect(cache.place([...conversation(1, 20), 7, 7])).toEqual({slot: a.slot, keep: 23});
    expect(cache.place([...conversation(2, 20), 7, 7])).toEqual({slot: b.slot, keep: 23});
  });

  it('overwrites the slot idle longest when all are full, keeping what it shares', () => {
    const cache = new SlotCache(2, 100, hasher);
    const a = serve(cache, conversation(1, 20));
    serve(cache, conversation(2, 20));
    serve(cache, [...conversation(2, 20), 9]); // slot b used again: a is idle longest
    expect(cache.place(conversation(3, 20))).toEqual({slot: a.slot, keep: HEADER.length});
  });

  it("copies a busy slot's prefix into a free slot, and leaves the last prompt token to decode", () => {
    const cache = new SlotCache(2, 100, hasher);
    const p = cache.place(conversation(1, 20))!;
    cache.occupy(p);
    cache.append(p.slot, conversation(1, 20));
    expect(cache.place(conversation(1, 20))).toEqual({slot: 1 - p.slot, keep: 22, copyFrom: p.slot});
    expect(cache.place([...conversation(1, 20)])!.keep).toBe(22);
  });

  it('publishes a block stored once however many slots hold it, and removed when the last drops it', () => {
    const events: KvEventData[] = [];
    const cache = new SlotCache(2, 100, hasher, (e) => events.push(e));
    const prompt = conversation(1, 9); // 12 tokens: 3 blocks of 4
    const a = cache.place(prompt)!;
    cache.occupy(a);
    cache.append(a.slot, prompt);
    const b = cache.place(prompt)!;
    cache.occupy(b);
    cache.append(b.slot, prompt.slice(b.keep));
    const stored = events.filter((e) => e.type === 'stored');
    expect(stored.flatMap((e) => (e.type === 'stored' ? e.blocks : []))).toHaveLength(3);
    expect(cache.blocksHeld).toBe(3);
    cache.release(a.slot);
    cache.release(b.slot);
    events.length = 0;
    // Both slots move on to other conversations: the shared blocks go when the second one does.
    serve(cache, conversation(5, 30));
    expect(events.filter((e) => e.type === 'removed')).toHaveLength(0);
    serve(cache, conversation(6, 30));
    const removed = events.flatMap((e) => (e.type === 'removed' ? e.blockHashes : []));
    expect(new Set(removed)).toEqual(new Set(Array.from(hasher.hashAll(prompt).sequence)));
    expect(cache.snapshot().length).toBe(cache.blocksHeld);
  });
});
