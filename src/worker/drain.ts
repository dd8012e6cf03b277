/**
 * A worker's phased stop: leave discovery first (the frontend routes elsewhere), stop accepting
 * request-plane connections, let in-flight requests finish for up to `drainMs` (their last frames
 * written out, not only produced), then close the status port last so health checks see
 * "draining" until the end.
 */
import type {Server as HttpServer} from 'node:http';
import type {Lease} from '../runtime/discovery/types.js';

export interface DrainTargets {
  /** None when the worker is not registered (its engine is down). */
  lease?: Lease;
  /** The request plane's listener (a RequestPlaneServer): stops accepting, tells when all is written. */
  rpc: {close(): unknown; flushed(): boolean};
  status: HttpServer;
  inFlight: () => number;
  drainMs: number;
}

/** How often the drain looks at the in-flight count. */
const DRAIN_POLL_MS = 20;

export async function drainWorker(t: DrainTargets): Promise<void> {
  await t.lease?.revoke();
  t.rpc.close();
  const deadline = Date.now() + t.drainMs;
  while ((t.inFlight() > 0 || !t.rpc.flushed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
  t.status.close();
}
