/**
 * Server-sent events as OpenAI streams them: one `data: <json>\n\n` per event (format.ts frames
 * the chunks), a failure after the 200 as an in-band error event, and `data: [DONE]\n\n` to end.
 */
export const SSE_HEADERS = {'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive'} as const;
export const SSE_DONE = 'data: [DONE]\n\n';

export const sseEvent = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
