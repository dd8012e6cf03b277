/**
 * The HTTP app as a plain request handler (testable without a port): routes, auth, body limits,
 * OpenAI endpoints streaming and unary, errors through errors.ts, metrics on every request.
 */
import {randomUUID} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {z} from 'zod';
import {PROMETHEUS_CONTENT_TYPE} from '../metrics/prometheus.js';
import type {RouteOverrides} from '../router/policy.js';
import {ServeError, errorBody, errorHeaders, toServeError} from './errors.js';
import {ChatPostprocessor} from './chat-postprocess.js';
import {chatChunk, chatCompletion, chatUsageChunk, completion, completionChunk, type ResponseMeta} from './format.js';
import {type GenerationDeps, type GenerationEvent, type GenerationInput, generate, route} from './generate.js';
import type {FrontendMetrics} from './metrics.js';
import {chatRequestSchema, completionRequestSchema} from './openai-schema.js';
import {openApiDocument} from './openapi.js';

export interface FrontendDeps extends GenerationDeps {
  metrics: FrontendMetrics;
  apiKey?: string;
  bodyLimitBytes: number;
  version: string;
  /** False once shutdown began: /live answers 503 and new requests are refused. */
  accepting(): boolean;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers});
  res.end(text);
};

function sendError(res: ServerResponse, e: ServeError, requestId?: string): void {
  if (res.headersSent) return;
  json(res, e.status, errorBody(e), {...errorHeaders(e), ...(requestId ? {'x-request-id': requestId} : {})});
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new ServeError('payload_too_large', `request body of ${declared} bytes exceeds the ${limit}-byte limit`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new ServeError('payload_too_large', `request body exceeds the ${limit}-byte limit`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody<T>(raw: Buffer, schema: z.ZodType<T>): T {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new ServeError('invalid_request', `the body is not valid JSON: ${(e as Error).message}`);
  }
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const param = i.path.join('.') || null;
    throw new ServeError('invalid_request', `${param ? `${param}: ` : ''}${i.message}`, param);
  }
  return r.data;
}

const stopList = (s: string | string[] | null | undefined) => (s == null ? [] : Array.isArray(s) ? s : [s]);

export function createFrontendApp(deps: FrontendDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const {metrics, pipeline} = deps;
  const model = pipeline.servedName;

  const checkAuth = (req: IncomingMessage) => {
    if (!deps.apiKey) return;
    const h = req.headers.authorization ?? '';
    if (h !== `Bearer ${deps.apiKey}`) throw new ServeError('unauthorized', h ? 'Incorrect API key provided.' : 'Missing API key: send `Authorization: Bearer <key>`.');
  };

  const checkModel = (name: string) => {
    if (name !== model) throw new ServeError('model_not_found', `The model \`${name}\` does not exist. Served: ${model}.`, 'model');
  };

  /** Runs a generation and writes it as SSE or one JSON body; records metrics. */
  async function serve(
    res: ServerResponse,
    endpoint: 'chat_completions' | 'completions',
    input: Omit<GenerationInput, 'signal' | 'requestId' | 'arrivedAt'> & {stream: boolean; includeUsage: boolean; post?: ChatPostprocessor},
    meta: ResponseMeta,
    arrivedAt: number,
  ): Promise<void> {
    const labels = {model, endpoint, request_type: input.stream ? 'stream' : 'unary'};
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) {
        metrics.disconnected.inc({model});
        abort.abort();
      }
    });
    const routeStart = performance.now();
    const decision = await route(deps, meta.id, input.promptTokens, input.routing, abort.signal);
    const workerId = decision.workerId;
    metrics.routerOverheadMs.observe({router_mode: deps.router.name}, performance.now() - routeStart - decision.queuedMs);
    metrics.routerDecisions.inc({router_mode: deps.router.name, worker_id: workerId});
    if (decision.overlapBlocks !== undefined) metrics.routerOverlapBlocks.observe({worker_id: workerId}, decision.overlapBlocks);
    metrics.queued.inc({model});
    let queued = true;
    let lastTokenAt = 0;
    const recordUsage = (u: {promptTokens: number; completionTokens: number; cachedTokens: number}) => {
      metrics.inputTokens.observe({model}, u.promptTokens);
      metrics.outputTokens.observe({model}, u.completionTokens);
      metrics.cachedTokens.observe({model}, u.cachedTokens);
      // Per worker, so the share of prompt tokens each one served from cache can be read off.
      metrics.routerPromptTokens.inc({worker_id: workerId}, u.promptTokens);
      metrics.routerCachedTokens.inc({worker_id: workerId}, u.cachedTokens);
    };
    const observe = (ev: GenerationEvent) => {
      if (ev.kind !== 'text' || !ev.tokens) return;
      const now = performance.now();
      if (queued) {
        queued = false;
        metrics.queued.dec({model});
        metrics.ttft.observe({model}, (Date.now() - arrivedAt) / 1000);
      } else metrics.itl.observe({model}, (now - lastTokenAt) / 1000 / ev.tokens);
      lastTokenAt = now;
      metrics.outputTokensTotal.inc({model}, ev.tokens);
    };
    const events = generate(deps, workerId, {...input, requestId: meta.id, arrivedAt, signal: abort.signal});
    // Which worker served it, and how many prompt blocks the router expected it to have cached.
    const headers: Record<string, string> = {'x-request-id': meta.id, 'x-dynamo-worker-id': workerId};
    if (decision.overlapBlocks !== undefined) headers['x-dynamo-overlap-blocks'] = String(decision.overlapBlocks);
    const chat = endpoint === 'chat_completions';
    const post = input.post;
    // A reply that called tools finishes with tool_calls, as OpenAI reports it.
    const finishOf = (reason: string) => (post?.toolCalls && reason === 'stop' ? 'tool_calls' : reason);
    try {
      if (!input.stream) {
        let text = '';
        for await (const ev of events) {
          observe(ev);
          if (ev.kind === 'text') {
            if (post) post.push(ev.text);
            else text += ev.text;
          } else {
            recordUsage(ev.usage);
            post?.flush();
            json(res, 200, post ? chatCompletion(meta, post.message(), finishOf(ev.reason), ev.usage) : completion(meta, text, ev.reason, ev.usage), headers);
          }
        }
      } else {
        res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers});
        // Events produced together leave in one write: cork now, uncork once this tick's work is done.
        let corked = false;
        const send = (o: unknown) => {
          if (!corked) {
            corked = true;
            res.cork();
            process.nextTick(() => {
              corked = false;
              res.uncork();
            });
          }
          res.write(`data: ${JSON.stringify(o)}\n\n`);
        };
        if (chat) send(chatChunk(meta, {role: 'assistant', content: ''}));
        try {
          for await (const ev of events) {
            observe(ev);
            if (ev.kind === 'text') {
              if (post) for (const d of post.push(ev.text)) send(chatChunk(meta, d));
              else if (ev.text) send(completionChunk(meta, ev.text));
              continue;
            }
            if (post) for (const d of post.flush()) send(chatChunk(meta, d));
            send(chat ? chatChunk(meta, {}, finishOf(ev.reason)) : completionChunk(meta, '', ev.reason));
            if (input.includeUsage) send(chat ? chatUsageChunk(meta, ev.usage) : {...completionChunk(meta, ''), choices: [], usage: chatUsageChunk(meta, ev.usage).usage});
            recordUsage(ev.usage);
          }
        } catch (e) {
          // The status is already 200: report the failure in-band, then end the stream.
          const se = toServeError(e);
          if (!abort.signal.aborted) send(errorBody(se));
          throw se;
        } finally {
          if (!res.writableEnded) res.end('data: [DONE]\n\n');
        }
      }
      metrics.requests.inc({...labels, status: 'success', error_type: ''});
    } catch (e) {
      const se = abort.signal.aborted ? new ServeError('cancelled', 'client disconnected') : toServeError(e);
      metrics.requests.inc({...labels, status: 'error', error_type: se.metricLabel});
      if (!res.headersSent) sendError(res, se, meta.id);
    } finally {
      if (queued) metrics.queued.dec({model});
    }
  }

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, arrivedAt: number): Promise<void> {
    const r = parseBody(await readBody(req, deps.bodyLimitBytes), chatRequestSchema);
    checkModel(r.model);
    if ((r.n ?? 1) > 1) throw new ServeError('invalid_request', 'n > 1 is not supported: send n requests with n = 1', 'n');
    // tool_choice "none" removes the tools from the prompt (Dynamo's default behaviour).
    const tools = r.tool_choice === 'none' ? undefined : (r.tools ?? undefined);
    const tokens = await pipeline.chatTokens(r.messages as never, tools);
    const param = r.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
    const maxTokens = pipeline.budget(tokens.length, r.max_completion_tokens ?? r.max_tokens, param);
    const meta = {id: `chatcmpl-${randomUUID()}`, created: Math.floor(arrivedAt / 1000), model};
    const post = new ChatPostprocessor(pipeline.info.reasoningParser, !!tools?.length);
    await serve(
      res,
      'chat_completions',
      {...samplingOf(r), promptTokens: tokens, maxTokens, stream: !!r.stream, includeUsage: !!r.stream_options?.include_usage, post, mockToolCall: toolToCall(tools, r.tool_choice)},
      meta,
      arrivedAt,
    );
  }

  async function completions(req: IncomingMessage, res: ServerResponse, arrivedAt: number): Promise<void> {
    const r = parseBody(await readBody(req, deps.bodyLimitBytes), completionRequestSchema);
    checkModel(r.model);
    if ((r.n ?? 1) > 1) throw new ServeError('invalid_request', 'n > 1 is not supported: send n requests with n = 1', 'n');
    let prompt = r.prompt;
    if (Array.isArray(prompt) && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) {
      if (prompt.length !== 1) throw new ServeError('invalid_request', 'batched prompts are not supported: send one prompt per request', 'prompt');
      prompt = prompt[0] as string | number[];
    }
    const tokens = await pipeline.completionTokens(prompt as string | number[]);
    if (!tokens.length) throw new ServeError('invalid_request', 'prompt must not be empty', 'prompt');
    const maxTokens = pipeline.budget(tokens.length, r.max_tokens ?? 16, 'max_tokens');
    const meta = {id: `cmpl-${randomUUID()}`, created: Math.floor(arrivedAt / 1000), model};
    await serve(res, 'completions', {...samplingOf(r), promptTokens: tokens, maxTokens, stream: !!r.stream, includeUsage: !!r.stream_options?.include_usage}, meta, arrivedAt);
  }

  const modelObject = () => ({id: model, object: 'model', created: 0, owned_by: 'dynamo', root: pipeline.info.hfId, max_model_len: pipeline.contextLength});

  return (req, res) => {
    const arrivedAt = Date.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const post = (fn: (q: IncomingMessage, s: ServerResponse, t: number) => Promise<void>, endpoint: string) => {
      if (method !== 'POST') throw new ServeError('method_not_allowed', `${path} takes POST`);
      if (!deps.accepting()) throw new ServeError('no_worker', 'the frontend is shutting down');
      checkAuth(req);
      metrics.inflight.inc({model});
      return fn(req, res, arrivedAt)
        .catch((e) => {
          const se = toServeError(e);
          metrics.requests.inc({model, endpoint, request_type: 'unknown', status: 'error', error_type: se.metricLabel});
          throw se;
        })
        .finally(() => {
          metrics.inflight.dec({model});
          metrics.duration.observe({model}, (Date.now() - arrivedAt) / 1000);
        });
    };
    const handle = async () => {
      switch (path) {
        case '/v1/chat/completions':
          return post(chatCompletions, 'chat_completions');
        case '/v1/completions':
          return post(completions, 'completions');
        case '/v1/models':
          checkAuth(req);
          return json(res, 200, {object: 'list', data: [modelObject()]});
        case '/health':
          return json(res, 200, {status: 'healthy', model, workers: deps.pool.records().map((w) => ({id: w.id, role: w.role, host: w.host, rpc_port: w.rpcPort}))});
        case '/live':
          return deps.accepting() ? json(res, 200, {status: 'live', message: 'Service is live'}) : json(res, 503, {status: 'shutting_down'});
        case '/metrics':
          metrics.workers.set({model}, deps.pool.size);
          metrics.routerQueuePending.set({}, deps.queue?.pending ?? 0);
          res.writeHead(200, {'content-type': PROMETHEUS_CONTENT_TYPE});
          return res.end(metrics.registry.render());
        case '/openapi.json':
          return json(res, 200, openApiDocument(deps.version));
        default:
          if (path.startsWith('/v1/models/')) {
            checkAuth(req);
            const id = decodeURIComponent(path.slice('/v1/models/'.length));
            checkModel(id);
            return json(res, 200, modelObject());
          }
          throw new ServeError('not_found', `no route for ${method} ${path}`);
      }
    };
    handle().catch((e) => sendError(res, toServeError(e)));
  };
}

/** Which tool a simulated model should call: the one tool_choice names, else the first offered. */
function toolToCall(tools: {function: {name: string}}[] | undefined, choice: unknown): string | undefined {
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
  nvext?: {
    router_config_override?: {overlap_score_weight?: number | null; router_temperature?: number | null; assume_kv_reuse?: boolean | null; track_prefill_tokens?: boolean | null} | null;
    agent_hints?: {kv_overlap_score_weight?: number | null} | null;
  } | null;
};

function samplingOf(r: SamplingFields) {
  return {
    stop: stopList(r.stop),
    seed: r.seed ?? undefined,
    temperature: r.temperature ?? undefined,
    topP: r.top_p ?? undefined,
    ignoreEos: r.ignore_eos ?? undefined,
    minTokens: r.min_tokens ?? undefined,
    routing: routingOf(r.nvext),
  };
}

/** nvext.router_config_override (and the agent hint for the overlap weight) → router overrides. */
function routingOf(nvext: SamplingFields['nvext']): RouteOverrides | undefined {
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
