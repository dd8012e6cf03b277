/**
 * The HTTP app as a function from request to reply (http.ts; testable without a port, served by
 * Bun.serve or node:http): routes, auth, body limits, the OpenAI endpoints and the operational
 * ones. The work of a generation request is in its own modules: body.ts parses it,
 * request-shaping.ts turns it into a generation, respond.ts builds the answer (format.ts frames
 * streams), request-metrics.ts observes it, errors.ts maps its failures.
 */
import {randomUUID} from 'node:crypto';
import {PROMETHEUS_CONTENT_TYPE} from '../metrics/prometheus.js';
import {parseBody} from './body.js';
import {ServeError, toServeError} from './errors.js';
import {prefillFirst} from './disagg.js';
import {type GenerationDeps, type GenerationEvent, generate, route} from './generate.js';
import {type HttpApp, type HttpReply, type HttpRequest, errorReply, jsonReply} from './http.js';
import type {FrontendMetrics} from './metrics.js';
import {chatRequestSchema, completionRequestSchema} from './openai-schema.js';
import {openApiDocument} from './openapi.js';
import {isPlainChatBody, isPlainCompletionBody} from './plain-body.js';
import {RequestMetrics} from './request-metrics.js';
import {type Endpoint, type RequestStamp, type ShapedRequest, assertServedModel, shapeChatRequest, shapeCompletionRequest} from './request-shaping.js';
import {streamReply, unaryReply} from './respond.js';

export interface FrontendDeps extends GenerationDeps {
  metrics: FrontendMetrics;
  apiKey?: string;
  bodyLimitBytes: number;
  version: string;
  /** False once shutdown began: /live answers 503 and new requests are refused. */
  accepting(): boolean;
  /**
   * Admission control's early look, before the body is read and tokenized: why a request would be
   * refused now (every worker busy, the router queue full), if it would. Refusing before that work
   * keeps an overloaded frontend's CPU for the requests it serves.
   */
  overloaded?(): string | undefined;
  /** Id of the last KV event the router applied from a worker (kv routing with events); /health shows it beside the worker's own. */
  kvEventId?(worker: string): number | undefined;
}

type Shape = (raw: string, stamp: RequestStamp) => Promise<ShapedRequest>;

export function createFrontendApp(deps: FrontendDeps): HttpApp {
  const {metrics, pipeline} = deps;
  const model = pipeline.servedName;
  const shapers: Record<Endpoint, Shape> = {
    chat_completions: (raw, stamp) => shapeChatRequest(parseBody(raw, chatRequestSchema, isPlainChatBody), pipeline, stamp),
    completions: (raw, stamp) => shapeCompletionRequest(parseBody(raw, completionRequestSchema, isPlainCompletionBody), pipeline, stamp),
  };

  const checkAuth = (req: HttpRequest) => {
    if (!deps.apiKey) return;
    const h = req.header('authorization') ?? '';
    if (h !== `Bearer ${deps.apiKey}`) throw new ServeError('unauthorized', h ? 'Incorrect API key provided.' : 'Missing API key: send `Authorization: Bearer <key>`.');
  };

  /**
   * Routes a shaped request and starts its generation; a client that leaves cancels it. A unary
   * reply is complete when returned; a stream settles (metrics, `done`) when its last frame is
   * pulled or the client goes away.
   */
  async function serve(req: HttpRequest, r: ShapedRequest, obs: RequestMetrics, done: () => void): Promise<HttpReply> {
    const abort = new AbortController();
    let finished = false;
    const onGone = () => {
      if (finished) return;
      obs.disconnected();
      abort.abort();
    };
    req.signal.addEventListener('abort', onGone, {once: true});
    if (req.signal.aborted) onGone(); // gone while its prompt was being tokenized
    const settle = (error: ServeError | undefined) => {
      finished = true;
      req.signal.removeEventListener('abort', onGone);
      if (error) obs.failed(abort.signal.aborted ? new ServeError('cancelled', 'client disconnected') : error);
      else obs.succeeded();
      obs.settled();
      done();
    };
    const {generation: g, meta} = r;
    const decision = await obs.routing(deps.router.name, () => route(deps, meta.id, g.promptTokens, {overrides: g.routing, signal: abort.signal, prefix: g.promptPrefix}));
    const prefill = deps.disagg ? await prefillFirst(deps, deps.disagg, meta.id, {...g, signal: abort.signal}, decision) : undefined;
    if (prefill) obs.prefill(prefill);
    const kvTransfer = prefill?.remote ? prefill.kvTransfer : undefined;
    const events = generate(deps, decision.workerId, {...g, signal: abort.signal, kvTransfer});
    // Which worker served it, and how many prompt blocks the router expected it to have cached.
    const headers: Record<string, string> = {'x-request-id': meta.id, 'x-dynamo-worker-id': decision.workerId};
    if (decision.overlapBlocks !== undefined) headers['x-dynamo-overlap-blocks'] = String(decision.overlapBlocks);
    if (prefill?.remote) headers['x-dynamo-prefill-worker-id'] = prefill.prefillWorker;
    const hooks = {heard: (ev: GenerationEvent) => obs.observe(ev), visible: () => obs.firstVisibleToken()};
    if (r.stream) return streamReply(r, events, headers, abort.signal, {...hooks, settled: settle});
    try {
      const reply = await unaryReply(r, events, headers, hooks);
      settle(undefined);
      return reply;
    } catch (e) {
      const se = toServeError(e);
      settle(se);
      return errorReply(abort.signal.aborted ? new ServeError('cancelled', 'client disconnected') : se, meta.id);
    }
  }

  const modelObject = () => ({id: model, object: 'model', created: 0, owned_by: 'dynamo', root: pipeline.info.hfId, max_model_len: pipeline.contextLength});

  /** A generation request, from intake to the reply; `ended` is observed when the reply is over. */
  async function generation(req: HttpRequest, endpoint: Endpoint, arrivedAt: number): Promise<HttpReply> {
    if (req.method !== 'POST') throw new ServeError('method_not_allowed', `${req.path} takes POST`);
    if (!deps.accepting()) throw new ServeError('no_worker', 'the frontend is shutting down');
    checkAuth(req);
    const obs = new RequestMetrics(metrics, {model, endpoint, arrivedAt});
    obs.admitted();
    // Requests that arrived together are each stamped before any of them is tokenized: the server
    // calls a handler only once the one before it awaits, and tokenizing a long prompt is ~1 ms of
    // work. Without this turn, a request's wait behind the others would be missing from its TTFT.
    await new Promise((r) => setImmediate(r));
    try {
      const full = deps.overloaded?.();
      if (full) throw new ServeError('rejected', `Service overloaded: ${full}; retry later`, null, deps.overloadStatus);
      const shaped = await shapers[endpoint](await req.text(deps.bodyLimitBytes), {arrivedAt, uuid: randomUUID()});
      obs.respondsAs(shaped.stream);
      return await serve(req, shaped, obs, () => obs.ended());
    } catch (e) {
      // Refused before generating (bad body, no worker): serve() never settled it.
      const se = toServeError(e);
      obs.rejected(se);
      obs.ended();
      throw se;
    }
  }

  async function handle(req: HttpRequest, arrivedAt: number): Promise<HttpReply> {
    const {path} = req;
    switch (path) {
      case '/v1/chat/completions':
        return generation(req, 'chat_completions', arrivedAt);
      case '/v1/completions':
        return generation(req, 'completions', arrivedAt);
      case '/v1/models':
        checkAuth(req);
        return jsonReply(200, {object: 'list', data: [modelObject()]});
      case '/health':
        return jsonReply(200, {status: 'healthy', model, workers: deps.pool.records().map((w) => ({id: w.id, role: w.role, host: w.host, rpc_port: w.rpcPort, kv_event_id: deps.kvEventId?.(w.id)}))});
      case '/live':
        return deps.accepting() ? jsonReply(200, {status: 'live', message: 'Service is live'}) : jsonReply(503, {status: 'shutting_down'});
      case '/metrics':
        metrics.workers.set({model}, deps.pool.size);
        metrics.routerQueuePending.set({}, deps.queue?.pending ?? 0);
        return {status: 200, headers: {'content-type': PROMETHEUS_CONTENT_TYPE}, body: metrics.registry.render()};
      case '/openapi.json':
        return jsonReply(200, openApiDocument(deps.version));
      default:
        if (path.startsWith('/v1/models/')) {
          checkAuth(req);
          assertServedModel(decodeURIComponent(path.slice('/v1/models/'.length)), model);
          return jsonReply(200, modelObject());
        }
        throw new ServeError('not_found', `no route for ${req.method} ${path}`);
    }
  }

  return (req) => handle(req, Date.now()).catch((e) => errorReply(toServeError(e)));
}
