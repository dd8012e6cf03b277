/**
 * The HTTP app as a plain request handler (testable without a port): routes, auth, body limits,
 * the OpenAI endpoints and the operational ones. The work of a generation request is in its own
 * modules: body.ts reads it, request-shaping.ts turns it into a generation, respond.ts writes the
 * answer (sse.ts frames streams), request-metrics.ts observes it, errors.ts maps its failures.
 */
import {randomUUID} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {PROMETHEUS_CONTENT_TYPE} from '../metrics/prometheus.js';
import {parseBody, readBody} from './body.js';
import {ServeError, toServeError} from './errors.js';
import {prefillFirst} from './disagg.js';
import {type GenerationDeps, generate, route} from './generate.js';
import type {FrontendMetrics} from './metrics.js';
import {chatRequestSchema, completionRequestSchema} from './openai-schema.js';
import {openApiDocument} from './openapi.js';
import {sendError, sendJson} from './reply.js';
import {RequestMetrics} from './request-metrics.js';
import {type Endpoint, type RequestStamp, type ShapedRequest, assertServedModel, shapeChatRequest, shapeCompletionRequest} from './request-shaping.js';
import {writeStream, writeUnary} from './respond.js';

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
}

type Shape = (raw: Buffer, stamp: RequestStamp) => Promise<ShapedRequest>;

export function createFrontendApp(deps: FrontendDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const {metrics, pipeline} = deps;
  const model = pipeline.servedName;
  const shapers: Record<Endpoint, Shape> = {
    chat_completions: (raw, stamp) => shapeChatRequest(parseBody(raw, chatRequestSchema), pipeline, stamp),
    completions: (raw, stamp) => shapeCompletionRequest(parseBody(raw, completionRequestSchema), pipeline, stamp),
  };

  const checkAuth = (req: IncomingMessage) => {
    if (!deps.apiKey) return;
    const h = req.headers.authorization ?? '';
    if (h !== `Bearer ${deps.apiKey}`) throw new ServeError('unauthorized', h ? 'Incorrect API key provided.' : 'Missing API key: send `Authorization: Bearer <key>`.');
  };

  /** Routes a shaped request, runs its generation and writes the answer; a client that leaves cancels it. */
  async function serve(res: ServerResponse, r: ShapedRequest, obs: RequestMetrics): Promise<void> {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) {
        obs.disconnected();
        abort.abort();
      }
    });
    const {generation: g, meta} = r;
    const decision = await obs.routing(deps.router.name, () => route(deps, meta.id, g.promptTokens, g.routing, abort.signal));
    const prefill = deps.disagg ? await prefillFirst(deps, deps.disagg, meta.id, {...g, signal: abort.signal}, decision) : undefined;
    if (prefill) obs.prefill(prefill);
    const kvTransfer = prefill?.remote ? prefill.kvTransfer : undefined;
    const events = obs.tap(generate(deps, decision.workerId, {...g, signal: abort.signal, kvTransfer}));
    // Which worker served it, and how many prompt blocks the router expected it to have cached.
    const headers: Record<string, string> = {'x-request-id': meta.id, 'x-dynamo-worker-id': decision.workerId};
    if (decision.overlapBlocks !== undefined) headers['x-dynamo-overlap-blocks'] = String(decision.overlapBlocks);
    if (prefill?.remote) headers['x-dynamo-prefill-worker-id'] = prefill.prefillWorker;
    try {
      await (r.stream ? writeStream(res, r, events, headers, abort.signal) : writeUnary(res, r, events, headers));
      obs.succeeded();
    } catch (e) {
      const se = abort.signal.aborted ? new ServeError('cancelled', 'client disconnected') : toServeError(e);
      obs.failed(se);
      sendError(res, se, meta.id);
    } finally {
      obs.settled();
    }
  }

  const modelObject = () => ({id: model, object: 'model', created: 0, owned_by: 'dynamo', root: pipeline.info.hfId, max_model_len: pipeline.contextLength});

  return (req, res) => {
    const arrivedAt = Date.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const generation = (endpoint: Endpoint) => {
      if (method !== 'POST') throw new ServeError('method_not_allowed', `${path} takes POST`);
      if (!deps.accepting()) throw new ServeError('no_worker', 'the frontend is shutting down');
      checkAuth(req);
      const obs = new RequestMetrics(metrics, {model, endpoint, arrivedAt});
      obs.admitted();
      const run = async () => {
        const full = deps.overloaded?.();
        if (full) throw new ServeError('rejected', `Service overloaded: ${full}; retry later`, null, deps.overloadStatus);
        const shaped = await shapers[endpoint](await readBody(req, deps.bodyLimitBytes), {arrivedAt, uuid: randomUUID()});
        obs.respondsAs(shaped.stream);
        await serve(res, shaped, obs);
      };
      return run()
        .catch((e) => {
          const se = toServeError(e);
          obs.rejected(se);
          throw se;
        })
        .finally(() => obs.ended());
    };
    const handle = async () => {
      switch (path) {
        case '/v1/chat/completions':
          return generation('chat_completions');
        case '/v1/completions':
          return generation('completions');
        case '/v1/models':
          checkAuth(req);
          return sendJson(res, 200, {object: 'list', data: [modelObject()]});
        case '/health':
          return sendJson(res, 200, {status: 'healthy', model, workers: deps.pool.records().map((w) => ({id: w.id, role: w.role, host: w.host, rpc_port: w.rpcPort}))});
        case '/live':
          return deps.accepting() ? sendJson(res, 200, {status: 'live', message: 'Service is live'}) : sendJson(res, 503, {status: 'shutting_down'});
        case '/metrics':
          metrics.workers.set({model}, deps.pool.size);
          metrics.routerQueuePending.set({}, deps.queue?.pending ?? 0);
          res.writeHead(200, {'content-type': PROMETHEUS_CONTENT_TYPE});
          return res.end(metrics.registry.render());
        case '/openapi.json':
          return sendJson(res, 200, openApiDocument(deps.version));
        default:
          if (path.startsWith('/v1/models/')) {
            checkAuth(req);
            assertServedModel(decodeURIComponent(path.slice('/v1/models/'.length)), model);
            return sendJson(res, 200, modelObject());
          }
          throw new ServeError('not_found', `no route for ${method} ${path}`);
      }
    };
    handle().catch((e) => sendError(res, toServeError(e)));
  };
}
