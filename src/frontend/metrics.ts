/**
 * Frontend metrics, Dynamo's names (`dynamo_frontend_*`) and buckets, all in this one table.
 */
import {Registry, logBuckets} from '../metrics/prometheus.js';

export function frontendMetrics() {
  const r = new Registry();
  const p = 'dynamo_frontend';
  return {
    registry: r,
    requests: r.counter(`${p}_requests_total`, 'Requests by model, endpoint, request type, status and error type.'),
    inflight: r.gauge(`${p}_inflight_requests`, 'Requests being handled (start to complete response).'),
    queued: r.gauge(`${p}_queued_requests`, 'Requests waiting for their first token.'),
    migrations: r.counter(`${p}_model_migration_total`, 'Requests moved to another worker after theirs failed, by migration_type (new_request: before the first token; ongoing: mid-stream).'),
    migrationMaxSeqLenExceeded: r.counter(`${p}_model_migration_max_seq_len_exceeded_total`, 'Requests that grew past --migration-max-seq-len and were no longer migratable.'),
    rejections: r.counter(`${p}_model_rejection_total`, 'Requests admission control refused at once (every worker saturated, the router queue full).'),
    disconnected: r.counter(`${p}_disconnected_clients_total`, 'Clients that went away before their response completed.'),
    duration: r.histogram(`${p}_request_duration_seconds`, 'Request duration.', logBuckets(1, 256, 10)),
    inputTokens: r.histogram(`${p}_input_sequence_tokens`, 'Input sequence length in tokens.', logBuckets(50, 128000, 12)),
    outputTokens: r.histogram(`${p}_output_sequence_tokens`, 'Output sequence length in tokens.', logBuckets(50, 32000, 10)),
    outputTokensTotal: r.counter(`${p}_output_tokens_total`, 'Output tokens, counted as they stream.'),
    ttft: r.histogram(`${p}_time_to_first_token_seconds`, 'Time to first token, as the client sees it: until the first content, reasoning or tool-call token is ready to send.', logBuckets(0.001, 480, 18)),
    engineTtft: r.histogram(`${p}_engine_time_to_first_token_seconds`, "Time until the worker's first token arrives (a reasoning or tool-call parser may hold it back from the client).", logBuckets(0.001, 480, 18)),
    itl: r.histogram(`${p}_inter_token_latency_seconds`, 'Inter-token latency.', logBuckets(0.001, 2, 13)),
    cachedTokens: r.histogram(`${p}_cached_tokens`, 'Prompt tokens served from the prefix cache, per request.', logBuckets(1, 128000, 12)),
    tokenizerLatencyMs: r.histogram(`${p}_tokenizer_latency_ms`, 'Prompt preprocessing time per request, by operation: template (rendering the chat template) and tokenize (encoding the text).', [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 50]),
    tokenizerPrefixTokens: r.counter(`${p}_tokenizer_prefix_cache_tokens_total`, "Prompt tokens by how the tokenizer got them: reused (the conversation's earlier prompt, from the prefix cache) or encoded."),
    templateRenders: r.counter(`${p}_tokenizer_template_renders_total`, 'Chat template renders: compiled to JS, or interpreted resuming the conversation\'s earlier render, or interpreted in full.'),
    workers: r.gauge(`${p}_workers`, 'Workers available for the model.'),
    routerDecisions: r.counter('dynamo_router_decisions_total', 'Routing decisions by router mode and chosen worker.'),
    routerOverlapBlocks: r.histogram('dynamo_router_overlap_blocks', 'Prompt blocks the chosen worker was expected to hold (kv mode).', [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]),
    routerPromptTokens: r.counter('dynamo_router_prompt_tokens_total', 'Prompt tokens of finished requests, by worker.'),
    routerCachedTokens: r.counter('dynamo_router_cached_tokens_total', 'Of those, tokens the worker served from its prefix cache (cached share = this / prompt tokens).'),
    routerQueuePending: r.gauge('dynamo_router_queue_pending_requests', 'Requests parked in the router queue while every worker is saturated.'),
    disaggPrefill: r.counter('dynamo_frontend_disagg_prefill_total', 'Where prefills of disaggregated serving ran: remote (a prefill worker), or local on the decode worker, with why.'),
    routerOverheadMs: r.histogram('dynamo_router_overhead_total_ms', 'Time to make one routing decision (hashing, index, scoring).', [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]),
  };
}

export type FrontendMetrics = ReturnType<typeof frontendMetrics>;
