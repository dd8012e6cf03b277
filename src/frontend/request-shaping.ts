/**
 * Request shaping: a validated OpenAI body becomes plain data saying what to generate (prompt
 * tokens, token budget, stop list, sampling, routing overrides) and how to answer (stream or not,
 * include_usage, response meta, chat postprocessing). No IO: tokenizing goes through the pipeline
 * handed in, and the request's arrival time and uuid are arguments.
 */
import type {RouteOverrides} from '../router/policy.js';
import type {ReasoningParserName} from './reasoning.js';
import {ServeError} from './errors.js';
import type {ResponseMeta} from './format.js';
import type {GenerationInput} from './generate.js';
import type {ModelPipeline} from './model-pipeline.js';
import type {ChatRequest, CompletionRequest} from './openai-schema.js';

export type Endpoint = 'chat_completions' | 'completions';

/** What shaping needs of the model pipeline (ModelPipeline has it). */
export type PromptPipeline = Pick<ModelPipeline, 'servedName' | 'info' | 'chatPrompt' | 'completionTokens' | 'budget'>;

/** When the request arrived (epoch ms) and the uuid its response id carries. */
export interface RequestStamp {
  arrivedAt: number;
  uuid: string;
}

export interface ShapedRequest {
  endpoint: Endpoint;
  /** Everything generate() needs except the cancel signal, which belongs to the connection. */
  generation: Omit<GenerationInput, 'signal'>;
  stream: boolean;
  includeUsage: boolean;
  meta: ResponseMeta;
  /** Chat only: how to split the reply into reasoning, content and tool calls. */
  chat?: {reasoningParser?: ReasoningParserName; toolsOffered: boolean};
}

/** Throws model_not_found unless `name` is the model this frontend serves. */
export function assertServedModel(name: string, served: string): void {
  if (name !== served) throw new ServeError('model_not_found', `The model \`${name}\` does not exist. Served: ${served}.`, 'model');
}

function assertSingleChoice(n: number | null | undefined): void {
  if ((n ?? 1) > 1) throw new ServeError('invalid_request', 'n > 1 is not supported: send n requests with n = 1', 'n');
}

export async function shapeChatRequest(r: ChatRequest, pipeline: PromptPipeline, stamp: RequestStamp): Promise<ShapedRequest> {
  assertServedModel(r.model, pipeline.servedName);
  assertSingleChoice(r.n);
  // tool_choice "none" removes the tools from the prompt (Dynamo's default behaviour).
  const tools = r.tool_choice === 'none' ? undefined : (r.tools ?? undefined);
  const {ids: tokens, continues} = await pipeline.chatPrompt(r.messages as never, tools);
  const param = r.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = pipeline.budget(tokens.length, r.max_completion_tokens ?? r.max_tokens, param);
  const meta = metaOf('chatcmpl', pipeline.servedName, stamp);
  return {
    endpoint: 'chat_completions',
    generation: {...samplingOf(r), requestId: meta.id, arrivedAt: stamp.arrivedAt, promptTokens: tokens, promptPrefix: continues, maxTokens, mockToolCall: toolToCall(tools, r.tool_choice)},
    ...streamingOf(r),
    meta,
    chat: {reasoningParser: pipeline.info.reasoningParser, toolsOffered: !!tools?.length},
  };
}

export async function shapeCompletionRequest(r: CompletionRequest, pipeline: PromptPipeline, stamp: RequestStamp): Promise<ShapedRequest> {
  assertServedModel(r.model, pipeline.servedName);
  assertSingleChoice(r.n);
  const tokens = await pipeline.completionTokens(singlePrompt(r.prompt));
  if (!tokens.length) throw new ServeError('invalid_request', 'prompt must not be empty', 'prompt');
  // The legacy endpoint's default, as OpenAI documents it.
  const maxTokens = pipeline.budget(tokens.length, r.max_tokens ?? 16, 'max_tokens');
  const meta = metaOf('cmpl', pipeline.servedName, stamp);
  return {
    endpoint: 'completions',
    generation: {...samplingOf(r), requestId: meta.id, arrivedAt: stamp.arrivedAt, promptTokens: tokens, maxTokens},
    ...streamingOf(r),
    meta,
  };
}

const metaOf = (prefix: string, model: string, s: RequestStamp): ResponseMeta => ({id: `${prefix}-${s.uuid}`, created: Math.floor(s.arrivedAt / 1000), model});

const streamingOf = (r: {stream?: boolean | null; stream_options?: {include_usage?: boolean | null} | null}) => ({
  stream: !!r.stream,
  includeUsage: !!r.stream_options?.include_usage,
});

/** The one prompt of a completions request: a batch of one is unwrapped, larger batches refused. */
export function singlePrompt(prompt: CompletionRequest['prompt']): string | number[] {
  if (Array.isArray(prompt) && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) {
    if (prompt.length !== 1) throw new ServeError('invalid_request', 'batched prompts are not supported: send one prompt per request', 'prompt');
    return prompt[0] as string | number[];
  }
  return prompt as string | number[];
}

/** Which tool a simulated model should call: the one tool_choice names, else the first offered. */
export function toolToCall(tools: {function: {name: string}}[] | undefined, choice: unknown): string | undefined {
  if (!tools?.length) return undefined;
  const named = (choice as {function?: {name?: string}} | undefined)?.function?.name;
  return named ?? tools[0]!.function.name;
}

type SamplingFields = {
  stop?: string | string[] | null;
  seed?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  ignore_eos?: boolean | null;
  min_tokens?: number | null;
  response_format?: {type?: string} | null;
  guided_json?: unknown;
  guided_regex?: unknown;
  guided_choice?: unknown;
  guided_grammar?: unknown;
  nvext?: {
    router_config_override?: {overlap_score_weight?: number | null; router_temperature?: number | null; assume_kv_reuse?: boolean | null; track_prefill_tokens?: boolean | null} | null;
    agent_hints?: {kv_overlap_score_weight?: number | null} | null;
  } | null;
};

const stopList = (s: string | string[] | null | undefined) => (s == null ? [] : Array.isArray(s) ? s : [s]);

/** The sampling and routing fields both endpoints share, nulls dropped. */
export function samplingOf(r: SamplingFields) {
  return {
    stop: stopList(r.stop),
    seed: r.seed ?? undefined,
    temperature: r.temperature ?? undefined,
    topP: r.top_p ?? undefined,
    ignoreEos: r.ignore_eos ?? undefined,
    minTokens: r.min_tokens ?? undefined,
    routing: routingOf(r.nvext),
    ...(isGuided(r) ? {guided: true} : {}),
  };
}

/** Structured output (response_format json_object/json_schema) or vLLM's guided_* fields. */
function isGuided(r: SamplingFields): boolean {
  const format = r.response_format?.type;
  return (format !== undefined && format !== 'text') || [r.guided_json, r.guided_regex, r.guided_choice, r.guided_grammar].some((g) => g != null);
}

/** nvext.router_config_override (and the agent hint for the overlap weight) → router overrides. */
export function routingOf(nvext: SamplingFields['nvext']): RouteOverrides | undefined {
  const o = nvext?.router_config_override;
  const weight = o?.overlap_score_weight ?? nvext?.agent_hints?.kv_overlap_score_weight;
  const out: RouteOverrides = {
    ...(weight != null ? {overlapWeight: weight} : {}),
    ...(o?.router_temperature != null ? {temperature: o.router_temperature} : {}),
    ...(o?.assume_kv_reuse != null ? {assumeKvReuse: o.assume_kv_reuse} : {}),
    ...(o?.track_prefill_tokens != null ? {trackPrefillTokens: o.track_prefill_tokens} : {}),
  };
  return Object.keys(out).length ? out : undefined;
}
