/**
 * Request migration, as Dynamo's frontend does it: when the worker serving a request dies, drops
 * its connection, is draining or has its engine down, the request moves to another worker with
 * the original prompt plus every token already generated, asking for what is left of max_tokens;
 * the client sees one stream, with no token twice and none missing.
 *
 * Decisions made here:
 * - Budget: `limit` moves per request, shared by every failure of it (0 = off, Dynamo's default).
 *   A failure before the first token is a "new_request" migration, a later one "ongoing".
 * - Never moved: a cancelled request, a request the engine refused (its words are final), guided
 *   or structured output (its sampler state cannot move), one past `maxSeqLen` tokens.
 * - A worker that fails a request before its first token (draining or not accepting connections:
 *   it is leaving and discovery has not said so yet; or gone as the request reached it) costs no
 *   budget and needs no migration limit: nothing was sent, so the request goes to another worker
 *   as if first routed there, each worker at most once. This is what makes a rolling restart lose
 *   nothing. It counts as a "new_request" migration.
 * - The failed worker is not chosen again for this request, and its router booking is released
 *   before the request is routed again (the new route books the new worker).
 * - KV is not carried: the new worker prefills prompt + output again, helped by its own cache.
 */
import type {GenerateChunk, GenerateRequest} from '../worker/protocol.js';
import type {RouteDecision} from '../router/policy.js';

export interface MigrationSettings {
  /** Moves allowed per request (0 = never). */
  limit: number;
  /** Prompt + output length past which a request is no longer moved. */
  maxSeqLen?: number;
}

export type MigrationType = 'new_request' | 'ongoing';

/** Failures another worker can recover from: the worker, not the request, is the problem. */
const MIGRATABLE = new Set(['worker_gone', 'worker_unreachable', 'worker_draining', 'engine_down', 'worker_busy']);

function isMigratable(e: unknown): boolean {
  return MIGRATABLE.has((e as {kind?: string})?.kind ?? '');
}

export interface Attempts {
  /** The worker's stream of one attempt, in batches of the chunks that arrived together. */
  call(workerId: string, body: GenerateRequest, signal: AbortSignal): AsyncIterable<GenerateChunk[]>;
  /** Routes the request again over every worker but `exclude`; throws no_worker when none is left. */
  reroute(tokens: readonly number[], exclude: ReadonlySet<string>): Promise<RouteDecision>;
  /** The attempt's first token arrived (the router's prefill bookkeeping). */
  firstToken(): void;
  /** The failed attempt's router booking is released. */
  release(): void;
  migrated(type: MigrationType, from: string, to: string): void;
  maxSeqLenExceeded(): void;
}

/**
 * The chunks of a request across as many workers as it takes (at most `settings.limit` moves);
 * the error of the last attempt when it cannot move again.
 */
export async function* migratingStream(
  first: string,
  body: GenerateRequest,
  opts: {settings: MigrationSettings; guided: boolean; signal: AbortSignal},
  attempts: Attempts,
): AsyncGenerator<GenerateChunk> {
  const {settings, signal} = opts;
  const generated: number[] = [];
  const failed = new Set<string>();
  let worker = first;
  let left = opts.guided ? 0 : settings.limit;
  let tracking = left > 0;
  let sentInAll = 0;
  for (;;) {
    const request: GenerateRequest = generated.length
      ? {
          ...body,
          tokenIds: [...body.tokenIds, ...generated],
          maxTokens: body.maxTokens - generated.length,
          minTokens: body.minTokens === undefined ? undefined : Math.max(0, body.minTokens - generated.length),
          resumed: {promptTokens: body.tokenIds.length, generatedTokens: generated.length, maxTokens: body.maxTokens, minTokens: body.minTokens},
          // The prefill worker's blocks were for the original prompt only.
          kvTransfer: undefined,
        }
      : body;
    let sent = 0;
    let answered = false;
    try {
      for await (const batch of attempts.call(worker, request, signal)) {
        // One chunk per batch: a fast engine's tokens cost one pass down the stream, not one per token.
        const chunk = mergeChunks(batch);
        if (!answered) attempts.firstToken();
        answered = true;
        sent += chunk.tokenIds.length;
        sentInAll += chunk.tokenIds.length;
        if (tracking) {
          generated.push(...chunk.tokenIds);
          if (settings.maxSeqLen !== undefined && body.tokenIds.length + generated.length > settings.maxSeqLen) {
            tracking = false;
            attempts.maxSeqLenExceeded();
          }
        }
        yield chunk;
      }
      return;
    } catch (e) {
      if (signal.aborted || !isMigratable(e)) throw e;
      // Failed before this attempt's first token, with everything sent so far known: free to move.
      const turnedAway = sent === 0 && (tracking || sentInAll === 0);
      if (!turnedAway && (!tracking || left === 0)) throw e;
      if (!turnedAway) left--;
      failed.add(worker);
      attempts.release();
      // No other worker: the worker's own failure says more than "no worker" (busy → 503, gone → 502).
      const next = await attempts.reroute([...body.tokenIds, ...generated], failed).catch((r) => {
        throw (r as {kind?: string}).kind === 'no_worker' ? e : r;
      });
      attempts.migrated(sent === 0 ? 'new_request' : 'ongoing', worker, next.workerId);
      worker = next.workerId;
    }
  }
}

/** Consecutive chunks of one stream as one: their tokens in order, the first cache report, the last finish and hand-off. */
export function mergeChunks(chunks: readonly GenerateChunk[]): GenerateChunk {
  if (chunks.length === 1) return chunks[0]!;
  const out: GenerateChunk = {tokenIds: []};
  for (const c of chunks) {
    for (const id of c.tokenIds) out.tokenIds.push(id);
    if (out.cachedTokens === undefined && c.cachedTokens !== undefined) out.cachedTokens = c.cachedTokens;
    if (c.finishReason) out.finishReason = c.finishReason;
    if (c.kvTransfer) out.kvTransfer = c.kvTransfer;
  }
  return out;
}
