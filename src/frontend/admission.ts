/**
 * Admission control, token-capacity (`--admission-control token-capacity`; docs/resilience.md):
 * the router queue holds one engine step of prefill tokens for every worker (the sum of their
 * max_num_batched_tokens), and a request is refused at once (529 or 503, Retry-After) when every
 * worker is past its busy thresholds or that queue is full. `overloaded()` is the cheap look the
 * HTTP layer takes before reading and tokenizing a body; route() checks again with the prompt.
 */
import {type BusyThresholds, notBusy} from '../router/policy.js';
import type {RouterQueue} from '../router/queue.js';
import type {WorkerPool} from './worker-pool.js';

/** A worker's prefill tokens per engine step when it does not say (vLLM's default max_num_batched_tokens). */
const DEFAULT_BATCHED_TOKENS = 8192;

export interface Admission {
  /** Prompt tokens the router queue may hold. */
  capacityTokens(): number;
  /** Why a request would be refused now, if it would. */
  overloaded(queue: RouterQueue | undefined): string | undefined;
}

export function tokenCapacity(pool: Pick<WorkerPool, 'snapshot'>, thresholds: BusyThresholds): Admission {
  const capacityTokens = () => pool.snapshot().reduce((n, w) => n + (w.maxNumBatchedTokens ?? DEFAULT_BATCHED_TOKENS), 0);
  return {
    capacityTokens,
    overloaded(queue) {
      const all = pool.snapshot();
      if (all.length && !notBusy(all, thresholds).length) return 'every worker is past its busy thresholds';
      if (queue && queue.pendingTokens >= capacityTokens()) return 'the router queue is full';
      return undefined;
    },
  };
}
