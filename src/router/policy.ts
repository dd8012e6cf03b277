/**
 * A routing policy is a pure choice over a snapshot of the workers that can take a request
 * (busy ones already filtered out). One file per policy; the KV-aware policy implements the same
 * interface with its prefix index.
 */
export interface WorkerSnapshot {
  id: string;
  /** Requests this frontend has in flight on the worker. */
  inFlight: number;
  /** Fraction of the worker's KV blocks in use, from its last health report (0–1). */
  kvUsage: number;
}

export interface RoutingPolicy {
  readonly name: string;
  select(workers: readonly WorkerSnapshot[]): WorkerSnapshot | undefined;
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
