/**
 * Server-sent events as OpenAI streams them: one `data: <json>\n\n` per event, a failure after the
 * 200 as an in-band error event, and `data: [DONE]\n\n` to end.
 */
import type {ServerResponse} from 'node:http';
import {type ServeError, errorBody} from './errors.js';

export const SSE_HEADERS = {'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive'} as const;
export const SSE_DONE = 'data: [DONE]\n\n';

export const sseEvent = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;

export interface SseWriter {
  send(payload: unknown): void;
  /** The status is already 200: the failure travels as an event carrying the OpenAI error body. */
  error(e: ServeError): void;
  /** Writes [DONE] and ends the response, unless it has ended already. */
  done(): void;
}

/** Sends the 200 with SSE headers (plus `headers`) and returns the writer for the events. */
export function openSse(res: ServerResponse, headers: Record<string, string> = {}): SseWriter {
  res.writeHead(200, {...SSE_HEADERS, ...headers});
  // Events produced together leave in one write: cork now, uncork once this tick's work is done.
  let corked = false;
  const send = (payload: unknown) => {
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(sseEvent(payload));
  };
  return {
    send,
    error: (e) => send(errorBody(e)),
    done: () => {
      if (!res.writableEnded) res.end(SSE_DONE);
    },
  };
}
