/**
 * Dynamo's KV routing cost (lib/kv-router scheduling/selector.rs), as a pure function.
 * Per candidate worker w, for a request of `isl` tokens in blocks of B:
 *   prefill_tokens = active_prefill_tokens(w) + max(0, isl − overlap(w)·B)   (tracking on; else active only)
 *   prefill_blocks = prefill_tokens / B                                      (not rounded)
 *   decode_blocks  = active_blocks(w) + new_blocks(w)                         (request blocks not active on w)
 *   logit          = overlap_weight · prefill_blocks + decode_blocks          (lower is better)
 * Selection: temperature 0 → argmin, ties to the smallest cached tree, then uniformly at random;
 * temperature > 0 → softmax over −(logit / range) / T. Randomness is injected.
 * Tunables: overlapWeight (default 1), temperature (0), trackPrefillTokens (true).
 */
export interface KvCandidate {
  id: string;
  /** Prefix blocks of the request this worker has cached (from the prefix index). */
  overlapBlocks: number;
  /** Prompt tokens routed to the worker that have not produced a first token yet. */
  activePrefillTokens: number;
  /** Unique blocks held by requests in flight on the worker. */
  activeBlocks: number;
  /** The request's full blocks that are not in the worker's active set. */
  newBlocks: number;
  /** Blocks the worker has cached in total (tie-break: prefer the emptier cache). */
  treeSize: number;
}

export interface KvCostOptions {
  isl: number;
  blockSize: number;
  overlapWeight: number;
  trackPrefillTokens?: boolean;
}

export interface KvScore {
  id: string;
  prefillBlocks: number;
  decodeBlocks: number;
  logit: number;
  treeSize: number;
}

export function scoreWorkersKv(candidates: readonly KvCandidate[], o: KvCostOptions): KvScore[] {
  const track = o.trackPrefillTokens ?? true;
  return candidates.map((c) => {
    const prefillTokens = track ? c.activePrefillTokens + Math.max(0, o.isl - c.overlapBlocks * o.blockSize) : c.activePrefillTokens;
    const prefillBlocks = prefillTokens / o.blockSize;
    const decodeBlocks = c.activeBlocks + c.newBlocks;
    return {id: c.id, prefillBlocks, decodeBlocks, logit: o.overlapWeight * prefillBlocks + decodeBlocks, treeSize: c.treeSize};
  });
}

export function selectKvWorker(scores: readonly KvScore[], temperature: number, random: () => number = Math.random): KvScore | undefined {
  if (!scores.length) return undefined;
  if (temperature <= 0) {
    const min = Math.min(...scores.map((s) => s.logit));
    const best = scores.filter((s) => s.logit === min);
    const smallest = Math.min(...best.map((s) => s.treeSize));
    const tied = best.filter((s) => s.treeSize === smallest);
    return tied[Math.min(tied.length - 1, Math.floor(random() * tied.length))];
  }
  const logits = scores.map((s) => s.logit);
  const max = Math.max(...logits);
  const range = max - Math.min(...logits);
  if (range === 0) return scores[Math.min(scores.length - 1, Math.floor(random() * scores.length))];
  // p ∝ exp(−(logit/range)/T), stabilised by the largest exponent.
  const exps = logits.map((l) => -(l / range) / temperature);
  const top = Math.max(...exps);
  const weights = exps.map((e) => Math.exp(e - top));
  const total = weights.reduce((a, b) => a + b, 0);
  let r = random() * total;
  for (let i = 0; i < scores.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return scores[i];
  }
  return scores.at(-1);
}
