import {describe, expect, it} from 'vitest';
import {resolveModel} from '../../config/models.js';
import {UserError} from '../../shared/errors.js';
import {autoTensorParallel, fitAtTp, kvCapacity, minTensorParallel} from './capacity.js';

const GIB = 1024 ** 3;
const r1 = resolveModel('deepseek-r1');
const llama70 = resolveModel('llama-3.1-70b');
const llama8 = resolveModel('llama-3.1-8b');

describe('kvCapacity', () => {
  it('without a TP picks the fewest GPUs, a power of two, that keep the weights within 60% of memory, as before TP existed', () => {
    // 671 GB of FP8 weights over 80 GiB GPUs: 625 GiB / 48 GiB = 13 → 16 GPUs.
    const c = kvCapacity(r1, {gpuMemoryGb: 80, blockSize: 16});
    expect(c.gpus).toBe(16);
    expect(c.kvCacheBytes).toBeCloseTo(16 * 80 * GIB * 0.9 - 671e9, -3);
    expect(c.blocks).toBe(Math.floor(c.kvCacheBytes / (r1.kvBytesPerToken.bf16 * 16)));
    expect(kvCapacity(llama8, {gpuMemoryGb: 80, blockSize: 16}).gpus).toBe(1);
  });

  it('honours an explicit TP: the weights split over that many GPUs and the rest is KV cache', () => {
    const c = kvCapacity(llama70, {gpuMemoryGb: 80, blockSize: 16, tensorParallelSize: 4});
    expect(c.gpus).toBe(4);
    expect(c.kvCacheBytes).toBeCloseTo(4 * 80 * GIB * 0.9 - 70.6e9 * 2, -3);
  });

  it('refuses an explicit TP that cannot hold the weights, naming the TP that can', () => {
    let error: unknown;
    try {
      kvCapacity(r1, {gpuMemoryGb: 80, blockSize: 16, tensorParallelSize: 1});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(
      'deepseek-r1 at tensor parallel 1 needs 625 GiB of weights per GPU, more than the 72 GiB a simulated 80 GiB GPU offers (90%): it needs --tensor-parallel-size ≥ 16',
    );
    expect((error as UserError).hint).toContain('use --tensor-parallel-size 16 or more');
    // 8 × 72 GiB = 576 GiB < 625 GiB; 16 fits.
    expect(() => kvCapacity(r1, {gpuMemoryGb: 80, blockSize: 16, tensorParallelSize: 8})).toThrow(/needs --tensor-parallel-size ≥ 16/);
    expect(kvCapacity(r1, {gpuMemoryGb: 141, blockSize: 16, tensorParallelSize: 8}).gpus).toBe(8);
  });
});

describe('fitting a model on GPUs', () => {
  it('splits the weights across TP ranks and counts what each GPU has left', () => {
    const f = fitAtTp(llama70, 2, 80 * GIB);
    expect(f.weightsPerGpu).toBeCloseTo(70.6e9, -3);
    expect(f.kvBytesPerGpu).toBeCloseTo(72 * GIB - 70.6e9, -3);
    expect(f.kvTokens).toBe(Math.floor((2 * f.kvBytesPerGpu) / llama70.kvBytesPerToken.bf16));
    expect(fitAtTp(llama70, 1, 80 * GIB).kvTokens).toBe(0);
  });

  it('finds the smallest power-of-two TP that holds the weights and the KV cache asked for', () => {
    expect(minTensorParallel(llama70, 80 * GIB)).toBe(2);
    // 128k tokens of llama-3.1-70b KV (40 GiB) do not fit next to the weights at TP 2.
    expect(minTensorParallel(llama70, 80 * GIB, 131072)).toBe(4);
    expect(minTensorParallel(r1, 80 * GIB)).toBe(16);
    expect(minTensorParallel(r1, 141 * GIB)).toBe(8);
    expect(minTensorParallel(r1, 1 * GIB)).toBeUndefined();
    expect(autoTensorParallel(llama70, 80 * GIB)).toBe(4);
  });
});
