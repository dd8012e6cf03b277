/**
 * `--engine-request-limit`, for the mocker's worker and a real engine's alike: a worker with that
 * many generate requests in flight sheds the next one (worker_busy); the frontend tries another
 * worker, and answers 503 with Retry-After when every one sheds.
 */
import {StreamError} from '../runtime/request-plane/server.js';

export function refuseOverLimit(workerId: string, inFlight: number, limit = 0): void {
  if (limit > 0 && inFlight >= limit) throw new StreamError('worker_busy', `${workerId} has ${inFlight} requests in flight, its limit`);
}
