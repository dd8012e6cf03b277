/**
 * Which GPUs each engine worker gets (its CUDA_VISIBLE_DEVICES), from the topology `dynamo sanity`
 * reads. Rule: workers needing the most GPUs choose first; each takes the fastest-linked group of
 * its size among the GPUs still free (`bestTpGroups`: an NVLink clique before a PCIe switch before
 * a host bridge before crossing sockets), so a tensor-parallel group never straddles a slow link
 * while a faster one of its size is free. Pure; undefined when the GPUs do not suffice.
 */
import {bestTpGroups} from '../sanity/gpu/groups.js';
import type {GpuTopology} from '../sanity/gpu/topology.js';

/** `sizes[i]`: the GPUs worker i needs (tensor × data parallel); the GPU indices of each, in the same order. */
export function assignGpus(t: GpuTopology, sizes: readonly number[]): number[][] | undefined {
  if (sizes.reduce((a, b) => a + b, 0) > t.gpus.length || sizes.some((s) => !Number.isInteger(s) || s < 1)) return undefined;
  const out: number[][] = new Array(sizes.length);
  let free = t.gpus.map((_, i) => i);
  const order = sizes.map((size, i) => ({size, i})).sort((a, b) => b.size - a.size || a.i - b.i);
  for (const {size, i} of order) {
    // The topology of the GPUs still free, indices mapped back to the box's.
    const sub: GpuTopology = {...t, gpus: free.map((g) => t.gpus[g]!), p2p: free.map((a) => free.map((b) => t.p2p[a]![b]!))};
    const group = bestTpGroups(sub, size, 1)?.[0];
    if (!group) return undefined;
    out[i] = group.gpus.map((k) => free[k]!);
    free = free.filter((g) => !out[i]!.includes(g));
  }
  return out;
}
