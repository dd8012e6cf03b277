/**
 * A routing policy is a pure choice over a snapshot of the workers that can take a request
 * (busy ones already filtered out). One file per policy; the KV-aware policy implements the same
 * interface with its prefix index.
 */
import type {BlockList} from '../kv/block-list.js';
import type {KvEventSink} from '../kv/events.js';

export interface WorkerSnapshot {
  id: string;
  /** Requests this frontend has in flight on the worker. */
  inFlight: number;
  /** Fraction of the worker's KV blocks in use, from its last health report (0–1). */
  kvUsage: number;
  /** The engine's token budget per step (router queue gate); unknown → Dynamo's 10,000,000. */
  maxNumBatchedTokens?: number;
}

export interface RoutingPolicy {
  readonly name: string;
  select(workers: readonly WorkerSnapshot[]): WorkerSnapshot | undefined;
}

/**
 * A request's prompt starts with the first `length` ids of `tokens`, an earlier request's prompt
 * (a conversation's last turn, or the prompt a migrated request was routed with): a router that
 * kept that prompt's blocks reuses them instead of hashing them again.
 */
export interface TokenPrefix {
  tokens: readonly number[];
  length: number;
}

/** What a router may look at in a request. */
export interface RouteRequest {
  id: string;
  tokens: ArrayLike<number>;
  /** The tokens' blocks when the caller has them already (trace replay); then only tokens.length is read. */
  blockHashes?: BlockList;
  prefix?: TokenPrefix;
  overrides?: RouteOverrides;
}

/** Per-request KV routing settings (Dynamo's RouterConfigOverride). */
export interface RouteOverrides {
  overlapWeight?: number;
  temperature?: number;
  /** false: count every block of the request as new decode load (no reuse of active blocks). */
  assumeKvReuse?: boolean;
  trackPrefillTokens?: boolean;
}

export interface RouteDecision {
  workerId: string;
  /** KV routing: leading blocks of the request the chosen worker is believed to hold. */
  overlapBlocks?: number;
}

/**
 * The frontend's router: chooses a worker and hears how the request went, which stateful routers
 * (KV) need for their load bookkeeping. A plain policy is wrapped by `policyRouter`.
 */
export interface RequestRouter {
  readonly name: string;
  choose(req: RouteRequest, workers: readonly WorkerSnapshot[]): RouteDecision | undefined;
  firstToken(requestId: string): void;
  done(requestId: string): void;
  /**
   * Present when the router learns worker caches from KV events (kv mode with events): where one
   * worker's events go, as calls with hashes as words (the frontend's feed, a replay's engines).
   */
  eventSink?(worker: string): KvEventSink;
  /** A worker left: forget what the router knew about it. */
  removeWorker?(worker: string): void;
  /** Router queue gate: true when every worker has more pending prefill than `threshold` × its step budget. */
  saturated?(workers: readonly WorkerSnapshot[], threshold: number): boolean;
}

export function policyRouter(policy: RoutingPolicy): RequestRouter {
  return {
    name: policy.name,
    choose: (_req, workers) => {
      const w = policy.select(workers);
      return w && {workerId: w.id};
    },
    firstToken: () => {},
    done: () => {},
  };
}

export interface BusyThresholds {
  /** A worker with this many requests in flight takes no more (0 = no limit). */
  maxInflight: number;
  /** A worker whose KV usage is at or above this takes no more (≥ 1 = no limit). */
  maxKvUsage: number;
}

/** Workers that are not busy; an empty result means every worker is busy (→ 503). */
export function notBusy(workers: readonly WorkerSnapshot[], t: BusyThresholds): WorkerSnapshot[] {
  return workers.filter((w) => (t.maxInflight <= 0 || w.inFlight < t.maxInflight) && (t.maxKvUsage >= 1 || w.kvUsage < t.maxKvUsage));
}
