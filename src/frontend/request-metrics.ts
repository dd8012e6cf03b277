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

export class RequestMetrics {
  private requestType: 'stream' | 'unary' = 'unary';
  private workerId = '';
  private queued = false;
  private visible = false;
  private lastTokenAt = 0;

  constructor(
    private readonly m: FrontendMetrics,
    private readonly ctx: RequestMetricsContext,
    private readonly clock: MetricsClock = systemClock,
  ) {}

  private get model() {
    return {model: this.ctx.model};
  }

  /** Intake passed (method, shutdown, auth): the request is in flight. */
  admitted(): void {
    this.m.inflight.inc(this.model);
  }

  /** The body is shaped: later outcomes carry its request_type. */
  respondsAs(stream: boolean): void {
    this.requestType = stream ? 'stream' : 'unary';
  }

  /** Times `choose` (less the time parked in the router queue), records the decision, starts "queued". */
  async routing<D extends RouteDecision & {queuedMs: number}>(routerMode: string, choose: () => Promise<D>): Promise<D> {
    const start = this.clock.monoMs();
    const d = await choose();
    this.workerId = d.workerId;
    this.m.routerOverheadMs.observe({router_mode: routerMode}, this.clock.monoMs() - start - d.queuedMs);
    this.m.routerDecisions.inc({router_mode: routerMode, worker_id: d.workerId});
    if (d.overlapBlocks !== undefined) this.m.routerOverlapBlocks.observe({worker_id: d.workerId}, d.overlapBlocks);
    this.m.queued.inc(this.model);
    this.queued = true;
    return d;
  }

  /** Passes the generation's events through, observing each as it arrives. */
  async *tap(events: AsyncIterable<GenerationEvent>): AsyncGenerator<GenerationEvent> {
    for await (const ev of events) {
      if (ev.kind === 'text') this.tokens(ev.tokens);
      else this.usage(ev.usage);
      yield ev;
    }
  }

  private tokens(n: number): void {
    if (!n) return;
    const now = this.clock.monoMs();
    if (this.queued) {
      this.queued = false;
      this.m.queued.dec(this.model);
      this.m.engineTtft.observe(this.model, this.sinceArrival());
    } else this.m.itl.observe(this.model, (now - this.lastTokenAt) / 1000 / n);
    this.lastTokenAt = now;
    this.m.outputTokensTotal.inc(this.model, n);
  }

  /** The first token the client will see is ready (respond.ts). */
  firstVisibleToken(): void {
    if (this.visible) return;
    this.visible = true;
    this.m.ttft.observe(this.model, this.sinceArrival());
  }

  private sinceArrival(): number {
    return (this.clock.wallMs() - this.ctx.arrivedAt) / 1000;
  }

  private usage(u: Usage): void {
    this.m.inputTokens.observe(this.model, u.promptTokens);
    this.m.outputTokens.observe(this.model, u.completionTokens);
    this.m.cachedTokens.observe(this.model, u.cachedTokens);
    // Per worker, so the share of prompt tokens each one served from cache can be read off.
    this.m.routerPromptTokens.inc({worker_id: this.workerId}, u.promptTokens);
    this.m.routerCachedTokens.inc({worker_id: this.workerId}, u.cachedTokens);
  }

  /** Where the prefill ran (disaggregated serving). */
  prefill(outcome: {remote: boolean; why?: string}): void {
    this.m.disaggPrefill.inc({...this.model, path: outcome.remote ? 'remote' : 'local', reason: outcome.remote ? '' : (outcome.why ?? '')});
  }

  /** The client went away before the response completed. */
  disconnected(): void {
    this.m.disconnected.inc(this.model);
  }

  succeeded(): void {
    this.m.requests.inc({...this.labels(this.requestType), status: 'success', error_type: ''});
  }

  /** Generation started, then failed (or was cancelled). */
  failed(e: ServeError): void {
    this.m.requests.inc({...this.labels(this.requestType), status: 'error', error_type: e.metricLabel});
  }

  /** Failed before generating: a bad body, a model it does not serve, no worker to route to. */
  rejected(e: ServeError): void {
    this.m.requests.inc({...this.labels('unknown'), status: 'error', error_type: e.metricLabel});
    if (e.kind === 'rejected') this.m.rejections.inc(this.model);
  }

  /** The generation is over, however it ended: a request that never saw a token stops counting as queued. */
  settled(): void {
    if (this.queued) this.m.queued.dec(this.model);
    this.queued = false;
  }

  /** The response is over (sent, failed or abandoned). */
  ended(): void {
    this.m.inflight.dec(this.model);
    this.m.duration.observe(this.model, this.sinceArrival());
  }

  private labels(requestType: string) {
    return {model: this.ctx.model, endpoint: this.ctx.endpoint, request_type: requestType};
  }
}
