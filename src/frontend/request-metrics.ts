/**
 * The metrics of one request, observed in one place and at the moments Dynamo observes them:
 * - in flight from intake (auth passed) until the response is over, then its duration;
 * - routing overhead and decision once a worker is chosen, and from then on "queued" until the
 *   worker's first token (the engine's TTFT, counted from arrival on the wall clock);
 * - TTFT when the first token the client sees is ready (content, reasoning or a tool call): a
 *   reasoning parser or a tool-call parser may hold the engine's first tokens back;
 * - inter-token latency per token of each later chunk, output tokens as they stream;
 * - sequence lengths and per-worker prompt/cached tokens when the generation finishes;
 * - one requests_total per request: request_type "unknown" when it failed before generating
 *   (bad body, no worker), else "stream" or "unary".
 * Clocks are injected so the timings can be checked without waiting.
 */
import type {RouteDecision} from '../router/policy.js';
import type {ServeError} from './errors.js';
import type {GenerationEvent, Usage} from './generate.js';
import type {FrontendMetrics} from './metrics.js';
import type {Endpoint} from './request-shaping.js';

export interface MetricsClock {
  /** Epoch ms: arrival, TTFT and duration are measured on it. */
  wallMs(): number;
  /** Monotonic ms: routing overhead and inter-token gaps. */
  monoMs(): number;
}

export const systemClock: MetricsClock = {wallMs: () => Date.now(), monoMs: () => performance.now()};

export interface RequestMetricsContext {
  model: string;
  endpoint: Endpoint;
  /** Epoch ms the request arrived, on `clock.wallMs`. */
  arrivedAt: number;
}

/**
 * Series bound once per metrics registry and key (label keys are not rebuilt per request): a
 * model's, a worker's under a router mode, each requests_total outcome.
 */
const bound = new WeakMap<FrontendMetrics, Map<string, unknown>>();

function once<S>(m: FrontendMetrics, key: string, make: () => S): S {
  let all = bound.get(m);
  if (!all) bound.set(m, (all = new Map()));
  let s = all.get(key) as S | undefined;
  if (s === undefined) all.set(key, (s = make()));
  return s;
}

function modelSeries(m: FrontendMetrics, model: string) {
  const labels = {model};
  return {
    inflight: m.inflight.bind(labels),
    queued: m.queued.bind(labels),
    disconnected: m.disconnected.bind(labels),
    rejections: m.rejections.bind(labels),
    outputTokensTotal: m.outputTokensTotal.bind(labels),
    engineTtft: m.engineTtft.bind(labels),
    ttft: m.ttft.bind(labels),
    itl: m.itl.bind(labels),
    duration: m.duration.bind(labels),
    inputTokens: m.inputTokens.bind(labels),
    outputTokens: m.outputTokens.bind(labels),
    cachedTokens: m.cachedTokens.bind(labels),
  };
}

function workerSeries(m: FrontendMetrics, routerMode: string, workerId: string) {
  return {
    routerOverheadMs: m.routerOverheadMs.bind({router_mode: routerMode}),
    routerDecisions: m.routerDecisions.bind({router_mode: routerMode, worker_id: workerId}),
    routerOverlapBlocks: m.routerOverlapBlocks.bind({worker_id: workerId}),
    routerPromptTokens: m.routerPromptTokens.bind({worker_id: workerId}),
    routerCachedTokens: m.routerCachedTokens.bind({worker_id: workerId}),
  };
}
type WorkerSeries = ReturnType<typeof workerSeries>;
const seriesOfWorker = (m: FrontendMetrics, routerMode: string, workerId: string): WorkerSeries =>
  once(m, `worker\0${routerMode}\0${workerId}`, () => workerSeries(m, routerMode, workerId));

export class RequestMetrics {
  private requestType: 'stream' | 'unary' = 'unary';
  private worker?: WorkerSeries;
  private queued = false;
  private visible = false;
  private lastTokenAt = 0;
  private readonly s: ReturnType<typeof modelSeries>;

  constructor(
    private readonly m: FrontendMetrics,
    private readonly ctx: RequestMetricsContext,
    private readonly clock: MetricsClock = systemClock,
  ) {
    this.s = once(m, `model\0${ctx.model}`, () => modelSeries(m, ctx.model));
  }

  /** Intake passed (method, shutdown, auth): the request is in flight. */
  admitted(): void {
    this.s.inflight.inc();
  }

  /** The body is shaped: later outcomes carry its request_type. */
  respondsAs(stream: boolean): void {
    this.requestType = stream ? 'stream' : 'unary';
  }

  /** Times `choose` (less the time parked in the router queue), records the decision, starts "queued". */
  async routing<D extends RouteDecision & {queuedMs: number}>(routerMode: string, choose: () => Promise<D>): Promise<D> {
    const start = this.clock.monoMs();
    const d = await choose();
    const w = seriesOfWorker(this.m, routerMode, d.workerId);
    this.worker = w;
    w.routerOverheadMs.observe(this.clock.monoMs() - start - d.queuedMs);
    w.routerDecisions.inc();
    if (d.overlapBlocks !== undefined) w.routerOverlapBlocks.observe(d.overlapBlocks);
    this.s.queued.inc();
    this.queued = true;
    return d;
  }

  /** One of the generation's events, as it arrives (the reply hears each first: respond.ts). */
  observe(ev: GenerationEvent): void {
    if (ev.kind === 'text') this.tokens(ev.tokens);
    else this.usage(ev.usage);
  }

  private tokens(n: number): void {
    if (!n) return;
    const now = this.clock.monoMs();
    if (this.queued) {
      this.queued = false;
      this.s.queued.dec();
      this.s.engineTtft.observe(this.sinceArrival());
    } else this.s.itl.observe((now - this.lastTokenAt) / 1000 / n);
    this.lastTokenAt = now;
    this.s.outputTokensTotal.inc(n);
  }

  /** The first token the client will see is ready (respond.ts). */
  firstVisibleToken(): void {
    if (this.visible) return;
    this.visible = true;
    this.s.ttft.observe(this.sinceArrival());
  }

  private sinceArrival(): number {
    return (this.clock.wallMs() - this.ctx.arrivedAt) / 1000;
  }

  private usage(u: Usage): void {
    this.s.inputTokens.observe(u.promptTokens);
    this.s.outputTokens.observe(u.completionTokens);
    this.s.cachedTokens.observe(u.cachedTokens);
    // Per worker, so the share of prompt tokens each one served from cache can be read off.
    const w = this.worker ?? seriesOfWorker(this.m, '', '');
    w.routerPromptTokens.inc(u.promptTokens);
    w.routerCachedTokens.inc(u.cachedTokens);
  }

  /** Where the prefill ran (disaggregated serving). */
  prefill(outcome: {remote: boolean; why?: string}): void {
    this.m.disaggPrefill.inc({model: this.ctx.model, path: outcome.remote ? 'remote' : 'local', reason: outcome.remote ? '' : (outcome.why ?? '')});
  }

  /** The client went away before the response completed. */
  disconnected(): void {
    this.s.disconnected.inc();
  }

  succeeded(): void {
    this.count(this.requestType, 'success', '');
  }

  /** Generation started, then failed (or was cancelled). */
  failed(e: ServeError): void {
    this.count(this.requestType, 'error', e.metricLabel);
  }

  /** Failed before generating: a bad body, a model it does not serve, no worker to route to. */
  rejected(e: ServeError): void {
    this.count('unknown', 'error', e.metricLabel);
    if (e.kind === 'rejected') this.s.rejections.inc();
  }

  /** The generation is over, however it ended: a request that never saw a token stops counting as queued. */
  settled(): void {
    if (this.queued) this.s.queued.dec();
    this.queued = false;
  }

  /** The response is over (sent, failed or abandoned). */
  ended(): void {
    this.s.inflight.dec();
    this.s.duration.observe(this.sinceArrival());
  }

  /** One requests_total, by how it ended. */
  private count(requestType: string, status: string, errorType: string): void {
    const {model, endpoint} = this.ctx;
    const key = `requests\0${model}\0${endpoint}\0${requestType}\0${status}\0${errorType}`;
    once(this.m, key, () => this.m.requests.bind({model, endpoint, request_type: requestType, status, error_type: errorType})).inc();
  }
}
