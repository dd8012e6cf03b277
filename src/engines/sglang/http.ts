/**
 * A worker's request on SGLang's native `POST /generate`, and SGLang's answers back in the worker's
 * terms (SGLang 0.5.23). Pure. The frontend has tokenized and templated, so the body carries the
 * prompt as `input_ids`, the sampling under SGLang's names (`max_new_tokens`, `min_new_tokens`,
 * `sampling_seed`, …), `stream` and `rid` (GenerateReqInput / SamplingParams).
 *
 * Answers, as sgl-project/sglang's python/sglang/srt/entrypoints/http_server.py `generate_request`
 * (read at 0025436e) and managers/tokenizer_manager.py `_handle_batch_output` /
 * `_wait_one_response` / `_handle_abort_finish_reason` (read at 001067ff) write them:
 * - Streamed: `data: {"text", "output_ids", "meta_info"}` events, then `data: [DONE]`. By default
 *   `output_ids` is CUMULATIVE (every token so far; intermediate events even share the server's
 *   growing list, so one may hold more tokens than its `completion_tokens`); with
 *   `--incremental-streaming-output` (earlier `--stream-output`, still accepted) it holds only the
 *   new ones. `meta_info.completion_tokens` counts every token so far in both modes, which tells them
 *   apart: an event holding fewer ids than that, after the first, is a delta.
 * - `meta_info.finish_reason` is null until the end, then `{type: "length", length}`,
 *   `{type: "stop", matched}` or `{type: "abort", message, status_code, err_type}`. An abort is
 *   the request failing (a PD transfer that timed out, an input SGLang refused), not an answer.
 * - Errors: unstreamed, a 400 `{"error": {"message"}}` (a ValueError), or `{"object": "error",
 *   "message", "code"}` (validation, HTTPException: a non-stream abort with status 500/503);
 *   streamed, HTTP 200 and `data: {"error": {"message"}}`, which we report as the 400 the same
 *   request would get unstreamed, and an abort as its `status_code`.
 *
 * Disaggregation (../shared/reference/peers.md §5.2; disaggregation/prefill.py at 000c2b94,
 * decode.py): both halves carry `bootstrap_host` and `bootstrap_port` (the prefill server's bootstrap server) and
 * `bootstrap_room` (random in [0, 2^63)), and run at the same time: the prefill server holds its
 * request until the decode server has connected for that room, then prefills and pushes the KV.
 * A room does not fit a JS number: the hand-off carries it as a decimal string, the body writes it
 * as a JSON integer.
 */
import {randomBytes} from 'node:crypto';
import type {TokenChunk, TokenRequest} from '../token-io.js';

const MAX_ROOM = (1n << 63n) - 1n;

/** Where a decode server pulls a request's KV from: the prefill server's bootstrap, and the room. */
export interface SglangBootstrap {
  host: string;
  port: number;
  room: bigint;
}

/** A fresh room: 63 random bits (SGLang keeps rooms as int64). */
export const newBootstrapRoom = (): bigint => randomBytes(8).readBigUInt64BE(0) & MAX_ROOM;

/** The hand-off a prefill gives its decode: SGLang's three fields, the room as a decimal string. */
export function sglangHandoff(b: SglangBootstrap): Record<string, unknown> {
  return {bootstrap_host: b.host, bootstrap_port: b.port, bootstrap_room: b.room.toString()};
}

/** A hand-off back into its fields; throws when it is not one `sglangHandoff` made. */
export function parseSglangHandoff(h: Record<string, unknown>): SglangBootstrap {
  const {bootstrap_host: host, bootstrap_port: port, bootstrap_room: raw} = h;
  if (typeof host !== 'string' || !host) throw new Error('the SGLang hand-off has no bootstrap_host');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`the SGLang hand-off's bootstrap_port is not a port: ${String(port)}`);
  const room = typeof raw === 'string' && /^\d{1,19}$/.test(raw) ? BigInt(raw) : typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : typeof raw === 'bigint' ? raw : undefined;
  if (room === undefined || room < 0n || room > MAX_ROOM) throw new Error(`the SGLang hand-off's bootstrap_room is not in [0, 2^63): ${String(raw)}`);
  return {host, port, room};
}

export interface SglangGenerateBody {
  rid: string;
  input_ids: number[];
  sampling_params: Record<string, number | boolean>;
  stream: boolean;
  bootstrap_host?: string;
  bootstrap_port?: number;
  bootstrap_room?: bigint;
}

export function sglangGenerateBody(req: TokenRequest, rid: string, opts: {stream: boolean; bootstrap?: SglangBootstrap}): SglangGenerateBody {
  const sampling = {
    max_new_tokens: req.maxTokens,
    ...(req.minTokens !== undefined ? {min_new_tokens: req.minTokens} : {}),
    ...(req.temperature !== undefined ? {temperature: req.temperature} : {}),
    ...(req.topP !== undefined ? {top_p: req.topP} : {}),
    ...(req.ignoreEos ? {ignore_eos: true} : {}),
    ...(req.seed !== undefined ? {sampling_seed: req.seed} : {}),
  };
  const b = opts.bootstrap;
  return {rid, input_ids: req.tokenIds, sampling_params: sampling, stream: opts.stream, ...(b ? {bootstrap_host: b.host, bootstrap_port: b.port, bootstrap_room: b.room} : {})};
}

/** The body as JSON, the room written as an exact integer. */
export function sglangBodyJson(body: SglangGenerateBody): string {
  const {bootstrap_room: room, ...rest} = body;
  const json = JSON.stringify(rest);
  return room === undefined ? json : `${json.slice(0, -1)},"bootstrap_room":${room.toString()}}`;
}

/** SGLang failed the request: `status` is its HTTP status (or the one the abort names), if any. */
export class SglangError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly detail: string,
  ) {
    super(status === undefined ? `SGLang aborted the request: ${detail}` : `SGLang answered ${status}: ${detail}`);
  }
}

/** An HTTP error answer, in SGLang's words (its error body), never a bare status. */
export function sglangFailure(status: number, text: string, statusText = ''): SglangError {
  let message = text.trim() || statusText;
  try {
    const body = JSON.parse(text) as {message?: unknown; detail?: unknown; error?: {message?: unknown}};
    const m = body.error?.message ?? body.message ?? body.detail;
    if (m !== undefined) message = typeof m === 'string' ? m : JSON.stringify(m);
  } catch {}
  return new SglangError(status, message);
}

export interface SglangFinishReason {
  type?: string;
  length?: number;
  matched?: unknown;
  message?: string;
  status_code?: number | null;
}
export interface SglangAnswer {
  text?: string | null;
  output_ids?: number[];
  meta_info?: {id?: string; finish_reason?: SglangFinishReason | null; prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number};
  error?: {message?: string};
}

/** One request's answers (each streamed event, or the one unstreamed answer) → its new tokens. */
export class SglangOutput {
  private seen = 0;
  private first = true;

  /** The event's new tokens, or undefined when it adds nothing; throws SglangError when SGLang failed the request. */
  next(a: SglangAnswer): TokenChunk | undefined {
    if (a.error) throw new SglangError(400, a.error.message ?? JSON.stringify(a.error));
    const meta = a.meta_info ?? {};
    const finish = meta.finish_reason ?? undefined;
    if (finish?.type === 'abort') throw new SglangError(finish.status_code ?? undefined, finish.message ?? 'aborted');
    const ids = a.output_ids ?? [];
    const total = meta.completion_tokens;
    const delta = this.seen > 0 && typeof total === 'number' && ids.length < total;
    const fresh = delta ? ids : ids.slice(this.seen);
    this.seen = delta ? this.seen + ids.length : Math.max(this.seen, ids.length);
    const finishReason: TokenChunk['finishReason'] = finish ? (finish.type === 'length' ? 'length' : 'stop') : undefined;
    const cached = (this.first || finishReason) && typeof meta.cached_tokens === 'number' ? meta.cached_tokens : undefined;
    if (!fresh.length && !finishReason && cached === undefined) return undefined;
    this.first = false;
    return {tokenIds: fresh, ...(finishReason ? {finishReason} : {}), ...(cached !== undefined ? {cachedTokens: cached} : {})};
  }
}
