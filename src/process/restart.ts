/**
 * Restart rule for a crashed process: exponential backoff (backoffMs × 2^n, capped at backoffMaxMs)
 * for at most maxRestarts consecutive crashes. A process that stayed up for stableMs is healthy
 * again, so its count starts over: a worker that crashes once a day is restarted forever, one that
 * crash-loops is given up on.
 */

export interface RestartPolicy {
  /** Consecutive restarts allowed before giving up; 0 = never restart. */
  maxRestarts: number;
  backoffMs: number;
  backoffMaxMs: number;
  /** A process up at least this long counts as healthy again: its restart count resets. */
  stableMs: number;
}

export type RestartDecision = {restart: true; attempt: number; delayMs: number} | {restart: false; reason: string};

export function decideRestart(policy: RestartPolicy, consecutiveRestarts: number, uptimeMs: number): RestartDecision {
  const previous = uptimeMs >= policy.stableMs ? 0 : consecutiveRestarts;
  if (policy.maxRestarts === 0) return {restart: false, reason: 'exited (it is never restarted)'};
  if (previous >= policy.maxRestarts) return {restart: false, reason: `crashed ${previous + 1} times in a row (limit ${policy.maxRestarts} restarts)`};
  const delayMs = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** previous);
  return {restart: true, attempt: previous + 1, delayMs};
}
