/**
 * A worker's requests on its SGLang child, over SGLang's native `POST /generate`: the mapping is
 * src/engines/sglang/http.ts; this is the HTTP and the server-sent events around it.
 *
 * Rules:
 * - One POST per request; the stream is read as it arrives, each event's new tokens a chunk.
 * - An HTTP error, an error event or an abort finish reason fails the request in SGLang's words.
 * - Cancelling (the signal) aborts the POST: SGLang aborts a request whose client went away.
 * - Disaggregation is SGLang's rendezvous under our frontend's prefill-then-decode: `prefill`
 *   draws a fresh room, starts the prefill POST in the background (the prefill server holds it
 *   until the decode server connects for that room, so it cannot be awaited here) and returns at
 *   once with the hand-off: this prefill server's bootstrap host and port, and the room. The decode
 *   request carries the three fields. The prefill's own token is not waited for (the decode server
 *   streams it); its failure goes to `onBackgroundError`, and the request's signal still aborts it.
 */
import {type SglangAnswer, type SglangBootstrap, type SglangGenerateBody, SglangOutput, newBootstrapRoom, parseSglangHandoff, sglangBodyJson, sglangFailure, sglangGenerateBody, sglangHandoff} from '../engines/sglang/http.js';
import type {TokenChunk} from '../engines/token-io.js';
import type {EngineClient, EngineHandoffParams} from './engine-client.js';
import type {GenerateRequest} from './protocol.js';
import {sseData} from './engine-http.js';

export interface SglangClientOptions {
  /** Where decode servers reach this (prefill) server's bootstrap: the worker's advertised host. */
  bootstrapHost: string;
  /** `--disaggregation-bootstrap-port` of this server. */
  bootstrapPort: number;
  /** A background prefill failed (not when its request was cancelled). */
  onBackgroundError?: (error: Error, requestId: string) => void;
}

export class SglangClient implements EngineClient {
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly baseUrl: string,
    /** The served model name (SGLang's /generate serves its one model and takes no name). */
    readonly model: string,
    private readonly opts: SglangClientOptions,
  ) {}

  /** The request streamed; with a prefill's `handoff` (its bootstrap fields), decoded from the blocks it pushes. */
  async *generate(req: GenerateRequest, opts: {handoff?: EngineHandoffParams; signal?: AbortSignal} = {}): AsyncGenerator<TokenChunk> {
    const bootstrap = opts.handoff ? parseSglangHandoff(opts.handoff) : undefined;
    const res = await this.post(sglangGenerateBody(req, req.requestId, {stream: true, bootstrap}), opts.signal);
    if (!res.body) return;
    const out = new SglangOutput();
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') return;
      const chunk = out.next(JSON.parse(data) as SglangAnswer);
      if (chunk) yield chunk;
    }
  }

  /** The prefill half: returns at once with the hand-off, the prefill running in the background. */
  async prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: EngineHandoffParams}> {
    const bootstrap: SglangBootstrap = {host: this.opts.bootstrapHost, port: this.opts.bootstrapPort, room: newBootstrapRoom()};
    const run = this.runPrefill(sglangGenerateBody(req, req.requestId, {stream: false, bootstrap}), req.requestId, signal);
    this.background.add(run);
    void run.then(() => this.background.delete(run));
    return {chunk: {tokenIds: []}, handoff: sglangHandoff(bootstrap)};
  }

  /** Background prefills still running. */
  get prefillsInFlight(): number {
    return this.background.size;
  }

  /** Resolves once every background prefill has ended (a stopping worker waits for them). */
  async settled(): Promise<void> {
    await Promise.all([...this.background]);
  }

  /** Never rejects: a failure goes to `onBackgroundError`. */
  private async runPrefill(body: SglangGenerateBody, requestId: string, signal?: AbortSignal): Promise<void> {
    try {
      const res = await this.post(body, signal);
      new SglangOutput().next((await res.json()) as SglangAnswer);
    } catch (e) {
      if (signal?.aborted) return;
      try {
        this.opts.onBackgroundError?.(e instanceof Error ? e : new Error(String(e)), requestId);
      } catch {
        // A throwing listener must not become an unhandled rejection.
      }
    }
  }

  private async post(body: SglangGenerateBody, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(`${this.baseUrl}/generate`, {method: 'POST', headers: {'content-type': 'application/json'}, body: sglangBodyJson(body), signal});
    if (!res.ok) throw sglangFailure(res.status, await res.text().catch(() => ''), res.statusText);
    return res;
  }
}
