import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {buildMockerEngine} from './mocker-engine.js';

import type {OutputText} from './output-text.js';

// The text the model writes plays no part in sizing: a stub keeps the tokenizer unloaded.
const text: OutputText = {eosTokenId: undefined, tokenSource: async () => () => 0};
const base = {blockSize: 16, gpuMemoryGb: 80, maxNumSeqs: 8, maxNumBatchedTokens: 1024, speedupRatio: 0};

describe('buildMockerEngine', () => {
  it('refuses a tensor parallel size whose GPUs cannot hold the weights, before loading anything, even with a block count given', async () => {
    const model = resolveModel('deepseek-r1');
    await expect(buildMockerEngine({...base, model, tensorParallelSize: 1})).rejects.toThrow(/deepseek-r1 at tensor parallel 1 needs 625 GiB .*--tensor-parallel-size ≥ 16/);
    await expect(buildMockerEngine({...base, model, tensorParallelSize: 8, numGpuBlocks: 1000})).rejects.toThrow(/needs --tensor-parallel-size ≥ 16/);
  });

  it('sizes the KV cache for the GPUs of the tensor parallel size given', async () => {
    const model = resolveModel('qwen3-0.6b');
    const one = await buildMockerEngine({...base, model, tensorParallelSize: 1}, text);
    const two = await buildMockerEngine({...base, model, tensorParallelSize: 2}, text);
    // Two GPUs reserve twice the memory and hold the same weights: more than twice the blocks.
    expect(two.blocksTotal).toBeGreaterThan(2 * one.blocksTotal);
  });

  it("sizes the block table for the whole cache at start: it never doubles (and stalls) under load", async () => {
    const engine = await buildMockerEngine({...base, model: resolveModel('qwen3-0.6b'), tensorParallelSize: 1, numGpuBlocks: 300_000}, text);
    expect(engine.blocksTotal).toBeGreaterThan(1 << 17);
    expect(engine.blocks.tableCapacity).toBeGreaterThanOrEqual(engine.blocksTotal);
  });
});
