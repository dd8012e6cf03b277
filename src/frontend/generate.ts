/**
 * One generation, independent of the OpenAI endpoint that asked for it: pick a worker (the routing
 * decision), stream its tokens, detokenize, cut at stop strings, and report usage. Routing happens
 * in `route()` before any byte is sent, so "no worker" is a clean HTTP 503, not a broken stream.
 */
import type {GenerateChunk, GenerateRequest, Handoff} from '../worker/protocol.js';
import {type BusyThresholds, type RequestRouter, type RouteDecision, type RouteOverrides, type TokenPrefix, notBusy} from '../router/policy.js';
import {QueueFull, type RouterQueue} from '../router/queue.js';
import {ServeError, toServeError} from './errors.js';
import type {ModelPipeline} from './model-pipeline.js';
import {type Attempts, type MigrationSettings, migratingStream} from './migration.js';
import {StopMatcher} from './stop-strings.js';
import type {WorkerPool} from './worker-pool.js';

export interface GenerationDeps {
  pool: WorkerPool;
  router: RequestRouter;
  /** Parks requests while every worker is saturated (kv routing with a queue threshold). */
  queue?: RouterQueue;
  thresholds: BusyThresholds;
  pipeline: ModelPipeline;
  /** Disaggregated serving: when to prefill on a prefill worker (disagg.ts). */
  disagg?: import('./disagg.js').DisaggSettings;
  /** Moving a request off a failed worker (migration.ts); absent = never. */
  migration?: MigrationSettings;
  /** Hears each migration (metrics, log). */
  migrations?: MigrationObserver;
  /** Admission control (token-capacity) is on: its status (529 or 503) for a request it refuses. */
  overloadStatus?: number;
}

export type MigrationObserver = Pick<Attempts, 'migrated' | 'maxSeqLenExceeded'>;

export interface GenerationInput {
  requestId: string;
  promptTokens: number[];
  /** The prompt starts with an earlier one (a conversation's last turn): the router reuses its blocks. */
  promptPrefix?: TokenPrefix;
  maxTokens: number;
  stop: string[];
  seed?: number;
  temperature?: number;
  topP?: number;
  ignoreEos?: boolean;
  minTokens?: number;
  /** Simulated engines: the tool the request wants called (see GenerateRequest.mockToolCall). */
  mockToolCall?: string;
  /** Per-request KV routing settings (nvext.router_config_override). */
  routing?: RouteOverrides;
  /** Guided or structured output: never migrated (its sampler state cannot move). */
  guided?: boolean;
  arrivedAt: number;
  signal: AbortSignal;
  /** The prompt's KV blocks wait on a prefill worker (disagg.ts): the decode worker pulls them. */
  kvTransfer?: Handoff;
}

export type GenerationEvent =
  | {kind: 'text'; text: string; tokens: number}
  | {kind: 'finish'; reason: 'stop' | 'length'; usage: Usage};

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/**
 * Chooses the worker, or throws no_worker / overloaded. With a router queue it first waits while
 * every worker is saturated. `generate()` then reports back to the router.
 */
export async function route(
  deps: GenerationDeps,
  requestId: string,
  tokens: readonly number[],
  opts: {overrides?: RouteOverrides; signal?: AbortSignal; exclude?: ReadonlySet<string>; prefix?: TokenPrefix} = {},
): Promise<RouteDecision & {queuedMs: number}> {
  const {overrides, signal, exclude, prefix} = opts;
  const candidates = () => {
    const all = deps.pool.snapshot().filter((w) => !exclude?.has(w.id));
    if (!all.length) throw new ServeError('no_worker', `no worker is serving ${deps.pipeline.servedName} right now; retry shortly`);
    const free = notBusy(all, deps.thresholds);
    if (!free.length) {
      // Admission control answers with its own status (529 by default) and counts a rejection.
      if (deps.overloadStatus) throw new ServeError('rejected', 'Service overloaded: every worker is past its busy thresholds; retry later', null, deps.overloadStatus);
      throw new ServeError('overloaded', 'Service temporarily unavailable: all workers are busy, please retry later');
    }
    return free;
  };
  let queuedMs = 0;
  if (deps.queue) {
    candidates(); // fail fast rather than queue for workers that are not there
    const t = performance.now();
    await deps.queue.admit(tokens.length, signal).catch((e) => {
      throw e instanceof QueueFull ? new ServeError('rejected', `Service overloaded: ${e.message}; retry later`, null, deps.overloadStatus) : e;
    });
    queuedMs = performance.now() - t;
  }
  const decision = deps.router.choose({id: requestId, tokens, prefix, overrides}, candidates())!;
  deps.queue?.wake(); // the next waiting request may fit now that this one is counted
  return {...decision, queuedMs};
}

export async function* generate(deps: GenerationDeps, workerId: string, input: GenerationInput): AsyncGenerator<GenerationEvent> {
  const body: GenerateRequest = {
    requestId: input.requestId,
    tokenIds: input.promptTokens,
    maxTokens: input.maxTokens,
    seed: input.seed,
    temperature: input.temperature,
    topP: input.topP,
    ignoreEos: input.ignoreEos,
    minTokens: input.minTokens,
    arrivedAt: input.arrivedAt,
    mockToolCall: input.mockToolCall,
    ...(input.kvTransfer ? {kvTransfer: input.kvTransfer} : {}),
  };
  const detok = deps.pipeline.detokenizer();
  const stops = new StopMatcher(input.stop);
  let completion = 0;
  let cached = 0;
  const attempts: Attempts = {
    call: (worker, request, signal) => deps.pool.callBatches(worker, request, signal) as AsyncIterable<GenerateChunk[]>,
    // A migrated request's prompt is the original one and what was generated: its blocks start as the original's.
    reroute: (tokens, exclude) => route(deps, input.requestId, tokens, {overrides: input.routing, signal: input.signal, exclude, prefix: {tokens: input.promptTokens, length: input.promptTokens.length}}),
    firstToken: () => {
      deps.router.firstToken(input.requestId);
      deps.queue?.wake();
    },
    release: () => deps.router.done(input.requestId),
    migrated: (type, from, to) => deps.migrations?.migrated(type, from, to),
    maxSeqLenExceeded: () => deps.migrations?.maxSeqLenExceeded(),
  };
  const chunks = migratingStream(workerId, body, {settings: deps.migration ?? {limit: 0}, guided: !!input.guided, signal: input.signal}, attempts);
  // Leaving this loop early (stop string, client gone) cancels the request on the worker.
  const usage = (): Usage => ({promptTokens: input.promptTokens.length, completionTokens: completion, cachedTokens: cached});
  try {
    for await (const chunk of chunks) {
      // A migrated attempt reports the cache of a longer prompt: usage counts the prompt at most.
      if (chunk.cachedTokens !== undefined) cached = Math.min(chunk.cachedTokens, input.promptTokens.length);
      let text = '';
      if (stops.active) {
        // Token by token: a stop string ends the count at the token that completed it.
        let n = 0;
        for (const id of chunk.tokenIds) {
          completion++;
          n++;
          const r = stops.push(detok.push(id));
          text += r.emit;
          if (r.stopped) {
            yield {kind: 'text', text, tokens: n};
            yield {kind: 'finish', reason: 'stop', usage: usage()};
            return;
          }
        }
      } else {
        completion += chunk.tokenIds.length;
        for (const id of chunk.tokenIds) text += detok.push(id);
      }
      if (chunk.finishReason) {
        const r = stops.push(detok.flush());
        text += r.emit;
        if (r.stopped) {
          yield {kind: 'text', text, tokens: chunk.tokenIds.length};
          yield {kind: 'finish', reason: 'stop', usage: usage()};
          return;
        }
        text += stops.flush();
        yield {kind: 'text', text, tokens: chunk.tokenIds.length};
        yield {kind: 'finish', reason: chunk.finishReason, usage: usage()};
        return;
      }
      yield {kind: 'text', text, tokens: chunk.tokenIds.length};
    }
  } catch (e) {
    throw toServeError(e);
  } finally {
    deps.router.done(input.requestId);
    deps.queue?.wake();
  }
  throw new ServeError('worker_gone', `worker ${workerId} ended the stream without finishing`);
}
