/**
 * The frontend's HTTP contract, independent of the server that carries it: the app is a function
 * from `HttpRequest` to `HttpReply`. The binary serves it with `Bun.serve` (serve-bun.ts); under
 * node (tests, `npm run dev`) node:http carries it (serve-node.ts). Both adapters keep the same
 * routes, limits, errors and SSE framing because those live in the app, not in the adapters.
 */
import {type ServeError, errorBody, errorHeaders} from './errors.js';

export interface HttpRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** A header by its lower-case name. */
  header(name: string): string | undefined;
  /** The body as text, at most `limit` bytes (else a payload_too_large ServeError). */
  text(limit: number): Promise<string>;
  /** Aborts when the client goes away before its response is complete. */
  readonly signal: AbortSignal;
}

export type HttpHeaders = Record<string, string>;

/** A whole body, or a stream of already-framed chunks (SSE) that ends when the iterable does. */
export type HttpReply = {status: number; headers: HttpHeaders; body: string} | {status: number; headers: HttpHeaders; stream: AsyncIterable<string>};

export type HttpApp = (req: HttpRequest) => Promise<HttpReply>;

const JSON_TYPE = {'content-type': 'application/json'};

export function jsonReply(status: number, body: unknown, headers: HttpHeaders = {}): HttpReply {
  return {status, headers: {...JSON_TYPE, ...headers}, body: JSON.stringify(body)};
}

export function errorReply(e: ServeError, requestId?: string): HttpReply {
  return jsonReply(e.status, errorBody(e), {...errorHeaders(e), ...(requestId ? {'x-request-id': requestId} : {})});
}
