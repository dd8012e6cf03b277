/**
 * Every way a request can fail, mapped in one place to an HTTP status and an OpenAI-shaped body
 * `{error: {message, type, param, code}}`. Retryable failures carry Retry-After; deterministic ones
 * say `x-should-retry: false` so SDKs do not retry them.
 */
export type ServeErrorKind =
  | 'invalid_request'
  | 'context_length_exceeded'
  | 'unauthorized'
  | 'not_found'
  | 'model_not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'no_worker'
  | 'overloaded'
  | 'rejected'
  | 'worker_gone'
  | 'timeout'
  | 'cancelled'
  | 'internal';

interface Mapping {
  status: number;
  type: string;
  code: string;
  retryAfterSec?: number;
  /** Label for the requests_total metric (Dynamo's error_type values). */
  metric: string;
}

const TABLE: Record<ServeErrorKind, Mapping> = {
  invalid_request: {status: 400, type: 'invalid_request_error', code: 'invalid_request', metric: 'validation'},
  context_length_exceeded: {status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', metric: 'validation'},
  unauthorized: {status: 401, type: 'authentication_error', code: 'invalid_api_key', metric: 'validation'},
  not_found: {status: 404, type: 'invalid_request_error', code: 'not_found', metric: 'not_found'},
  model_not_found: {status: 404, type: 'invalid_request_error', code: 'model_not_found', metric: 'not_found'},
  method_not_allowed: {status: 405, type: 'invalid_request_error', code: 'method_not_allowed', metric: 'validation'},
  payload_too_large: {status: 413, type: 'invalid_request_error', code: 'payload_too_large', metric: 'validation'},
  no_worker: {status: 503, type: 'server_error', code: 'service_unavailable', retryAfterSec: 1, metric: 'overload'},
  overloaded: {status: 503, type: 'server_error', code: 'overloaded', retryAfterSec: 1, metric: 'overload'},
  // Admission control (token-capacity): 529 as Dynamo answers, or 503 (--overload-status-code).
  rejected: {status: 529, type: 'server_error', code: 'overloaded', retryAfterSec: 1, metric: 'overload'},
  worker_gone: {status: 502, type: 'server_error', code: 'worker_gone', metric: 'internal'},
  timeout: {status: 504, type: 'server_error', code: 'timeout', metric: 'response_timeout'},
  cancelled: {status: 499, type: 'invalid_request_error', code: 'cancelled', metric: 'cancelled'},
  internal: {status: 500, type: 'server_error', code: 'internal_error', metric: 'internal'},
};

export class ServeError extends Error {
  constructor(
    readonly kind: ServeErrorKind,
    message: string,
    readonly param: string | null = null,
    /** Replaces the kind's status (admission control's 529 or 503). */
    private readonly statusOverride?: number,
  ) {
    super(message);
  }
  get status(): number {
    return this.statusOverride ?? TABLE[this.kind].status;
  }
  get metricLabel(): string {
    return TABLE[this.kind].metric;
  }
}

export function errorBody(e: ServeError): {error: {message: string; type: string; param: string | null; code: string}} {
  const m = TABLE[e.kind];
  return {error: {message: e.message, type: m.type, param: e.param, code: m.code}};
}

export function errorHeaders(e: ServeError): Record<string, string> {
  const m = TABLE[e.kind];
  if (m.retryAfterSec !== undefined) return {'retry-after': String(m.retryAfterSec)};
  return m.status < 500 ? {'x-should-retry': 'false'} : {};
}

/** Any thrown value as a ServeError (unknown errors are internal, never leaked with a stack). */
export function toServeError(e: unknown): ServeError {
  if (e instanceof ServeError) return e;
  const kind = (e as {kind?: string})?.kind;
  if (kind === 'worker_gone' || kind === 'worker_unreachable') return new ServeError('worker_gone', (e as Error).message);
  if (kind === 'worker_draining') return new ServeError('no_worker', 'the chosen worker is shutting down; retry');
  if (kind === 'worker_busy') return new ServeError('overloaded', `Service temporarily unavailable: ${(e as Error).message}; retry later`);
  // The worker's engine is restarting: it has left discovery, so a retry goes elsewhere.
  if (kind === 'engine_down') return new ServeError('no_worker', `${(e as Error).message}; retry`);
  // The engine refused or failed the request: its own words, as vLLM's server would answer them.
  if (kind === 'engine_error') return new ServeError('worker_gone', (e as Error).message);
  if (kind === 'invalid_request') return new ServeError('invalid_request', (e as Error).message);
  if (kind === 'cancelled') return new ServeError('cancelled', 'request cancelled');
  return new ServeError('internal', `internal error: ${(e as Error)?.message ?? String(e)}`);
}
