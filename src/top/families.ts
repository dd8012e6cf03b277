/**
 * Which metric families feed which figure of `top`, per dialect, in one table; and which dialect
 * and kind a source is, from the families it exposes.
 *
 * Rules:
 * - Each figure lists readings in order of preference; the first whose families the source exposes
 *   is used (vLLM's `inter_token_latency_seconds`, else the older `time_per_output_token_seconds`).
 * - A reading is a gauge (summed over series, or averaged for fractions), a rate (a counter, or a
 *   histogram's `_sum` as a counter: the frontend's input tokens), quantiles of a histogram over
 *   the window, or a ratio of two increases over the window (prefix-cache hits / queries).
 * - Dialect: `dynamo_frontend_*` is a Dynamo frontend; `vllm:*` or `sglang:*` an engine (also
 *   when a Dynamo worker passes them through); `dynamo_component_*` alone a Dynamo worker read by
 *   its component metrics. Kind: a Dynamo worker when the page carries `dynamo_component_*` or the
 *   run directory says so (our mocker serves vLLM's names), else the engine's name.
 * - Rejected requests: the frontend's requests_total with status "error" and an error_type of
 *   overload (this project's 503s, src/frontend/errors.ts: no worker, overloaded) or the names
 *   other Dynamo releases use for 503/529 rejections.
 */
import type {Labels} from './exposition.js';
import type {SourceKind} from './snapshot.js';

export type Dialect = 'frontend' | 'vllm' | 'sglang' | 'component';

export type Reading =
  | {gauge: string; combine: 'sum' | 'mean'; where?: (l: Labels) => boolean; breakdown?: string}
  | {rate: string; where?: (l: Labels) => boolean}
  | {quantiles: string}
  | {ratio: readonly [hits: string, total: string]};

export interface Recipe {
  running?: readonly Reading[];
  waiting?: readonly Reading[];
  /** 0–1 */
  kvUsage?: readonly Reading[];
  /** 0–1 */
  hitRate?: readonly Reading[];
  requests?: readonly Reading[];
  inputTokens?: readonly Reading[];
  outputTokens?: readonly Reading[];
  /** Seconds. */
  ttft?: readonly Reading[];
  /** Seconds. */
  itl?: readonly Reading[];
  errors?: readonly Reading[];
  rejected?: readonly Reading[];
  routerQueue?: readonly Reading[];
  /** Tokens of KV moved prefill → decode, per second (disaggregated serving). */
  transferTokens?: readonly Reading[];
  /** KV transfers waiting or in flight. */
  transferQueue?: readonly Reading[];
}

export type Figure = keyof Recipe;

/** error_type values of a rejected request (503 no worker / overloaded, 529, 429). */
export const REJECTED_ERROR_TYPES: ReadonlySet<string> = new Set(['overload', 'overloaded', 'no_worker', 'no_workers', 'no_instances', 'service_unavailable', 'rate_limited', 'too_many_requests', 'rejected']);

const isError = (l: Labels) => l.status === 'error';
const isRejected = (l: Labels) => l.status === 'error' && REJECTED_ERROR_TYPES.has(l.error_type ?? '');

/**
 * KV transfer of disaggregated serving, as this project's workers export it (the decode side that
 * pulls counts the tokens; the queue is transfers waiting or in flight). Engines have no common
 * names for it, so these are ours, on every worker page whatever its engine dialect.
 */
export const KV_TRANSFER_TOKENS = 'dynamo_component_kv_transfer_tokens_total';
export const KV_TRANSFER_PENDING = 'dynamo_component_kv_transfer_pending';
const TRANSFER: Recipe = {
  transferTokens: [{rate: KV_TRANSFER_TOKENS}],
  transferQueue: [{gauge: KV_TRANSFER_PENDING, combine: 'sum'}],
};

const FRONTEND: Recipe = {
  running: [{gauge: 'dynamo_frontend_inflight_requests', combine: 'sum'}],
  waiting: [{gauge: 'dynamo_frontend_queued_requests', combine: 'sum'}],
  requests: [{rate: 'dynamo_frontend_requests_total'}],
  inputTokens: [{rate: 'dynamo_frontend_input_sequence_tokens'}],
  outputTokens: [{rate: 'dynamo_frontend_output_tokens_total'}, {rate: 'dynamo_frontend_output_sequence_tokens'}],
  ttft: [{quantiles: 'dynamo_frontend_time_to_first_token_seconds'}],
  itl: [{quantiles: 'dynamo_frontend_inter_token_latency_seconds'}],
  hitRate: [{ratio: ['dynamo_router_cached_tokens_total', 'dynamo_router_prompt_tokens_total']}, {ratio: ['dynamo_frontend_cached_tokens', 'dynamo_frontend_input_sequence_tokens']}],
  errors: [{rate: 'dynamo_frontend_requests_total', where: isError}],
  rejected: [{rate: 'dynamo_frontend_requests_total', where: isRejected}, {rate: 'dynamo_frontend_model_rejection_total'}],
  routerQueue: [
    {gauge: 'dynamo_router_queue_pending_requests', combine: 'sum'},
    {gauge: 'dynamo_frontend_router_queue_pending_requests', combine: 'sum'},
  ],
};

const VLLM: Recipe = {
  ...TRANSFER,
  running: [{gauge: 'vllm:num_requests_running', combine: 'sum'}],
  // Some releases add per-reason series beside the total: those are a breakdown, not more requests.
  waiting: [{gauge: 'vllm:num_requests_waiting', combine: 'sum', breakdown: 'reason'}],
  kvUsage: [
    {gauge: 'vllm:kv_cache_usage_perc', combine: 'mean'},
    {gauge: 'vllm:gpu_cache_usage_perc', combine: 'mean'},
  ],
  hitRate: [{ratio: ['vllm:prefix_cache_hits_total', 'vllm:prefix_cache_queries_total']}, {ratio: ['vllm:gpu_prefix_cache_hits_total', 'vllm:gpu_prefix_cache_queries_total']}],
  requests: [{rate: 'vllm:request_success_total'}],
  inputTokens: [{rate: 'vllm:prompt_tokens_total'}],
  outputTokens: [{rate: 'vllm:generation_tokens_total'}],
  ttft: [{quantiles: 'vllm:time_to_first_token_seconds'}],
  itl: [{quantiles: 'vllm:inter_token_latency_seconds'}, {quantiles: 'vllm:time_per_output_token_seconds'}],
};

const SGLANG: Recipe = {
  ...TRANSFER,
  running: [{gauge: 'sglang:num_running_reqs', combine: 'sum'}],
  waiting: [{gauge: 'sglang:num_queue_reqs', combine: 'sum'}],
  kvUsage: [{gauge: 'sglang:token_usage', combine: 'mean'}],
  hitRate: [{gauge: 'sglang:cache_hit_rate', combine: 'mean'}, {ratio: ['sglang:cached_tokens_total', 'sglang:prompt_tokens_total']}],
  requests: [{rate: 'sglang:num_requests_total'}],
  inputTokens: [{rate: 'sglang:prompt_tokens_total'}],
  outputTokens: [{rate: 'sglang:generation_tokens_total'}],
  ttft: [{quantiles: 'sglang:time_to_first_token_seconds'}],
  itl: [{quantiles: 'sglang:inter_token_latency_seconds'}],
};

const COMPONENT: Recipe = {
  ...TRANSFER,
  running: [{gauge: 'dynamo_component_inflight_requests', combine: 'sum'}],
  requests: [{rate: 'dynamo_component_requests_total'}],
};

export const RECIPES: Readonly<Record<Dialect, Recipe>> = {frontend: FRONTEND, vllm: VLLM, sglang: SGLANG, component: COMPONENT};

/** The families a reading needs. */
export function readingFamilies(r: Reading): string[] {
  if ('gauge' in r) return [r.gauge];
  if ('rate' in r) return [r.rate];
  if ('quantiles' in r) return [r.quantiles];
  return [...r.ratio];
}

/** Every family `top` reads: the parse filter (the rest of a page is skipped unread). */
export const UNDERSTOOD_FAMILIES: ReadonlySet<string> = new Set(
  Object.values(RECIPES).flatMap((recipe) => Object.values(recipe).flatMap((readings: readonly Reading[]) => readings.flatMap(readingFamilies))),
);

/** The dialect of a page, from the understood families it exposes; undefined when none. */
export function detectDialect(families: Iterable<string>): Dialect | undefined {
  let engine: Dialect | undefined;
  let component = false;
  for (const f of families) {
    if (f.startsWith('dynamo_frontend_') || f.startsWith('dynamo_router_')) return 'frontend';
    if (f.startsWith('vllm:')) engine = 'vllm';
    else if (f.startsWith('sglang:')) engine ??= 'sglang';
    else if (f.startsWith('dynamo_component_')) component = true;
  }
  return engine ?? (component ? 'component' : undefined);
}

/** What kind of source a page is: its dialect, and whether Dynamo runs the engine (page or run directory says so). */
export function detectKind(families: Iterable<string>, hint?: SourceKind): {kind: SourceKind; dialect?: Dialect} {
  const list = [...families];
  const dialect = detectDialect(list);
  if (!dialect) return {kind: 'unknown'};
  if (dialect === 'frontend') return {kind: 'dynamo-frontend', dialect};
  const dynamo = dialect === 'component' || hint === 'dynamo-worker' || list.some((f) => f.startsWith('dynamo_component_'));
  return {kind: dynamo ? 'dynamo-worker' : dialect === 'vllm' ? 'vllm' : 'sglang', dialect};
}
