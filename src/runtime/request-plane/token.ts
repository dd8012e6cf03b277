/**
 * The deployment's request-plane token: `dynamo up` makes a random one per run, keeps it in the run
 * directory (mode 0600) and hands it to its frontend and workers in their environment (over SSH on
 * standard input, never in argv). A worker with a token refuses any connection whose first frame
 * does not carry it, so another user on the host cannot send requests or read KV events. A
 * worker started by hand without one accepts any connection, as before.
 */
import {timingSafeEqual} from 'node:crypto';

export const REQUEST_PLANE_TOKEN_ENV = 'DYN_REQUEST_PLANE_TOKEN';

export function requestPlaneToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[REQUEST_PLANE_TOKEN_ENV] || undefined;
}

export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
