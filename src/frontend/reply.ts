/**
 * Whole-body HTTP replies: a JSON document, or a ServeError as its OpenAI error body with the
 * status and retry headers errors.ts maps it to.
 */
import type {ServerResponse} from 'node:http';
import {type ServeError, errorBody, errorHeaders} from './errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers});
  res.end(text);
}

/** Does nothing once a response has started: a stream reports its failure in-band instead. */
export function sendError(res: ServerResponse, e: ServeError, requestId?: string): void {
  if (res.headersSent) return;
  sendJson(res, e.status, errorBody(e), {...errorHeaders(e), ...(requestId ? {'x-request-id': requestId} : {})});
}
