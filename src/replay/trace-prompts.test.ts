import {beforeAll, describe, expect, it} from 'vitest';
import {blocksOf} from '../engines/mocker/kv-blocks.js';
import {sliceBlocks} from '../kv/block-list.js';
import {DynamoBlockHasher, NativeBlockHasher, WasmBlockHasher} from '../kv/dynamo-hash.js';
import {requireNative} from '../native/index.js';
import {TracePrompts} from './trace-prompts.js';

let h64: DynamoBlockHasher;
let h48: DynamoBlockHasher;
beforeAll(async () => {
  h64 = await DynamoBlockHasher.create(64);
  h48 = await DynamoBlockHasher.create(48);
});

const req = (hashIds: number[], inputLength: number) => ({arrivalMs: 0, inputLength, outputLength: 1, hashIds});

describe('TracePrompts', () => {
  it('gives equal ids equal tokens and blocks, and memoized blocks equal hashing the whole prompt', () => {
    // 48 does not divide 512, so this one writes and hashes every token: the reference.
    const full = new TracePrompts(h48, 512);
    const memo = new TracePrompts(h64, 512);
    // 48 does not divide 512: the whole prompt is materialized (tail from block 27 × 48 = 1296).
    const all = Array.from(full.tokens(req([0, 1, 2], 1300)));
    expect(all).toHaveLength(1300);
    expect(all.every((t) => t < 32000)).toBe(true);
    const reference = blocksOf(h64, all);
    const b = memo.prompt(req([0, 1, 2], 1300));
    expect(b.blocks.keys).toHaveLength(Math.floor(1300 / 64));
    expect(b.blocks).toEqual(reference);
    // The tail after the last full block is written (the mocker reads it).
    expect(Array.from(b.tail)).toEqual(all.slice(1280));
    expect(b.length).toBe(1300);
    expect(full.prompt(req([0, 1, 2], 1300)).blocks).toEqual(blocksOf(h48, all));
    expect(memo.tokens(req([0, 1, 2], 1300))).toEqual(Uint32Array.from(all));
    // Shared leading ids share leading blocks; a different second id diverges right after.
    const c = memo.prompt(req([0, 9], 1024));
    expect(sliceBlocks(c.blocks, 0, 8)).toEqual(sliceBlocks(b.blocks, 0, 8));
    expect(c.blocks.sequence[8]).not.toBe(b.blocks.sequence[8]);
  });

  it('hashes an id afresh when a trace reuses it after a different parent', () => {
    const memo = new TracePrompts(h64, 512);
    const first = memo.prompt(req([0, 5], 1024));
    const other = memo.prompt(req([1, 5], 1024));
    expect(other.blocks.local[8]).toBe(first.blocks.local[8]); // same tokens
    expect(other.blocks.sequence[8]).not.toBe(first.blocks.sequence[8]); // different prefix
    // Its memo stays the first parent's: the first prompt again gives the same blocks.
    expect(memo.prompt(req([0, 5], 1024)).blocks).toEqual(first.blocks);
  });
});

describe('TracePrompts, native and TypeScript', () => {
  it('give the same blocks (the addon writes the same tokens as idTokens)', async () => {
    const wasm = await WasmBlockHasher.create(64);
    const native = requireNative();
    const a = new TracePrompts(NativeBlockHasher.create(native, 64), 512, 128256);
    const b = new TracePrompts(wasm, 512, 128256);
    for (const r of [req([0, 1, 2], 1300), req([0, 1, 7, 8], 2000), req([3, 1], 1024), req([4_000_000_000, 5], 700)]) {
      const x = a.prompt(r);
      const y = b.prompt(r);
      expect(x.blocks).toEqual(y.blocks);
      expect(Array.from(x.tail)).toEqual(Array.from(y.tail));
    }
  });
});
