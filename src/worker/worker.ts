/**
 * A worker process: one engine behind the request plane, with a metrics/health port, registered in
 * discovery under a lease. Stops cleanly on SIGTERM (leave discovery first, so the frontend routes
 * elsewhere, then drain) and by itself when its supervisor disappears.
 */
import {type Server, createServer} from 'node:http';
import type {Server as NetServer} from 'node:net';
import {UserError} from '../shared/errors.js';
import {logger} from '../shared/log.js';
import type {ModelInfo} from '../config/models.js';
import type {WorkerRole} from '../config/schema.js';
import {PROMETHEUS_CONTENT_TYPE} from '../metrics/prometheus.js';
import {FileDiscovery} from '../runtime/discovery/file-store.js';
import type {Lease} from '../runtime/discovery/types.js';
import {roleLifecycle} from '../runtime/role-lifecycle.js';
import {StreamError, serveRequestPlane} from '../runtime/request-plane/server.js';
import {loadTokenizerFiles} from '../tokenizer/bundled.js';
import {ChatTemplate} from '../tokenizer/chat-template.js';
import {PromptEncoder} from '../tokenizer/encoder.js';
import {Vocab} from '../tokenizer/vocab.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {kvCapacity} from '../engines/mocker/capacity.js';
import {MockerEngine} from '../engines/mocker/engine.js';
import {KvEventPublisher} from './kv-event-publisher.js';
import {KvBlockManager} from '../engines/mocker/kv-blocks.js';
import {workerMetrics} from '../engines/mocker/metrics.js';
import {modelScale, polynomialModel} from '../engines/mocker/perf-model.js';
import {MockScheduler} from '../engines/mocker/scheduler.js';
import {ReadableText, seedFor} from '../engines/mocker/text.js';
import {isKvEventSubscription, validateGenerateRequest} from './protocol.js';

export interface WorkerOptions {
  engine: string;
  role: WorkerRole;
  model: ModelInfo;
  /** Name clients use in `model`. */
  servedModelName: string;
  workerId: string;
  host: string;
  advertiseHost: string;
  rpcPort: number;
  metricsPort: number;
  blockSize: number;
  discoveryDir: string;
  numGpuBlocks?: number;
  gpuMemoryGb: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  speedupRatio: number;
  drainMs: number;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

export async function runWorker(opts: WorkerOptions): Promise<void> {
  const log = logger();
  const life = roleLifecycle((why) => log.info(`worker ${opts.workerId}: ${why} while starting; exiting`));
  if (opts.engine !== 'mocker') {
    throw new UserError(`engine "${opts.engine}" cannot run here: this build serves with the built-in mocker engine only`, 'use --engine mocker (the default)');
  }
  const files = await loadTokenizerFiles(opts.model);
  const vocab = Vocab.fromJson(files.tokenizerJson);
  const text = ReadableText.fromVocab(vocab, new ChatTemplate(files.tokenizerConfig).eosToken);
  // Token ids of the text the simulated model writes around its thinking and its tool calls.
  const encoder = await PromptEncoder.create(files.tokenizerJson, vocab);
  const think = opts.model.reasoningParser ? {open: await encoder.encode('<think>\n'), close: await encoder.encode('\n</think>\n\n')} : undefined;
  const toolCalls = new Map<string, number[]>();
  const toolCallTokens = async (name: string) => {
    let ids = toolCalls.get(name);
    if (!ids) toolCalls.set(name, (ids = await encoder.encode(`<tool_call>\n${JSON.stringify({name, arguments: {}})}\n</tool_call>`)));
    return ids;
  };
  const blocksTotal = opts.numGpuBlocks ?? kvCapacity(opts.model, {gpuMemoryGb: opts.gpuMemoryGb, blockSize: opts.blockSize}).blocks;
  // KV events: numbered and buffered here, served to routers over the request plane.
  const events: KvEventPublisher = new KvEventPublisher(() => blocks.snapshot());
  const blocks = new KvBlockManager(blocksTotal, opts.blockSize, (e) => events.publish(e));
  const scheduler = new MockScheduler({
    blocks,
    hasher: await DynamoBlockHasher.create(opts.blockSize),
    maxNumSeqs: opts.maxNumSeqs,
    maxNumBatchedTokens: opts.maxNumBatchedTokens,
    perf: polynomialModel(modelScale(opts.model.activeParameters)),
  });
  const engine = new MockerEngine(scheduler, opts.speedupRatio);
  const m = workerMetrics();
  const labels = {model_name: opts.servedModelName, engine: '0'};
  m.cacheConfig.set({block_size: opts.blockSize, num_gpu_blocks: blocksTotal, enable_prefix_caching: 'True'}, 1);
  let last = {...scheduler.counters};
  const refresh = () => {
    const c = scheduler.counters;
    m.prefixQueries.inc(labels, c.prefixQueryTokens - last.prefixQueryTokens);
    m.prefixHits.inc(labels, c.prefixHitTokens - last.prefixHitTokens);
    m.promptTokens.inc(labels, c.promptTokens - last.promptTokens);
    m.generationTokens.inc(labels, c.generationTokens - last.generationTokens);
    m.preemptions.inc(labels, c.preemptions - last.preemptions);
    last = {...c};
    m.running.set(labels, scheduler.numRunning);
    m.waiting.set(labels, scheduler.numWaiting);
    m.kvUsage.set(labels, blocks.usage);
  };
  engine.onStep = refresh;
  refresh();

  let draining = false;
  // Prefill workers of a disaggregated pair produce exactly one token (the hand-off comes later).
  const rpc: NetServer = await serveRequestPlane(async function* (body, ctx): AsyncGenerator<unknown> {
    if (isKvEventSubscription(body)) {
      yield* events.subscribe(body.from, ctx.signal);
      return;
    }
    if (draining) throw new StreamError('worker_draining', `${opts.workerId} is shutting down`);
    const req = validateGenerateRequest(body);
    if (typeof req === 'string') throw new StreamError('invalid_request', req);
    const maxTokens = opts.role === 'prefill' ? 1 : req.maxTokens;
    const arrived = req.arrivedAt ?? Date.now();
    let prev = 0;
    let n = 0;
    let cached = 0;
    for await (const chunk of engine.generate(
      {
        id: req.requestId,
        prompt: req.tokenIds,
        maxTokens,
        eosTokenId: text.eosTokenId,
        ignoreEos: req.ignoreEos,
        nextToken: text.tokens(seedFor(req.seed, req.tokenIds), {
          ignoreEos: req.ignoreEos,
          minTokens: req.minTokens,
          maxTokens,
          think,
          toolCall: req.mockToolCall ? await toolCallTokens(req.mockToolCall) : undefined,
        }),
      },
      ctx.signal,
    )) {
      const now = Date.now();
      if (n === 0) {
        m.ttft.observe(labels, (now - arrived) / 1000);
        cached = chunk.cachedTokens ?? 0;
      }
      else m.itl.observe(labels, (now - prev) / 1000 / chunk.tokenIds.length);
      prev = now;
      n += chunk.tokenIds.length;
      if (chunk.finishReason) {
        log.debug(`${req.requestId}: ${req.tokenIds.length} prompt tokens (${cached} cached), ${n} generated, ${chunk.finishReason}, ${now - arrived} ms`);
        m.e2e.observe(labels, (now - arrived) / 1000);
        m.success.inc({...labels, finished_reason: chunk.finishReason});
      }
      yield chunk;
    }
  }, opts.rpcPort, opts.host);

  const http = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(draining ? 503 : 200, {'content-type': 'application/json'});
      res.end(JSON.stringify({status: draining ? 'draining' : 'ready', worker: opts.workerId, in_flight: engine.inFlight, kv_usage: blocks.usage}));
    } else if (req.url === '/metrics') {
      refresh();
      res.writeHead(200, {'content-type': PROMETHEUS_CONTENT_TYPE});
      res.end(m.registry.render());
    } else {
      res.writeHead(404, {'content-type': 'application/json'});
      res.end(JSON.stringify({error: 'not found'}));
    }
  });
  await listen(http, opts.metricsPort, opts.host);

  const store = new FileDiscovery(opts.discoveryDir);
  const lease: Lease = await store.register({
    id: opts.workerId,
    role: opts.role,
    model: opts.servedModelName,
    engine: opts.engine,
    host: opts.advertiseHost,
    rpcPort: opts.rpcPort,
    metricsPort: opts.metricsPort,
    startedAt: Date.now(),
    runtime: {
      totalKvBlocks: blocksTotal,
      blockSize: opts.blockSize,
      maxNumSeqs: opts.maxNumSeqs,
      maxNumBatchedTokens: opts.maxNumBatchedTokens,
      contextLength: opts.model.contextLength,
    },
  });
  log.info(`worker ${opts.workerId} (${opts.role}, ${opts.engine}) ready: ${opts.servedModelName}, ${blocksTotal} KV blocks of ${opts.blockSize}, rpc ${opts.host}:${opts.rpcPort}, metrics :${opts.metricsPort}`);

  life.ready();
  const why = await life.stopped;
  draining = true;
  log.info(`worker ${opts.workerId}: ${why}; leaving discovery and draining ${engine.inFlight} request(s)`);
  await lease.revoke();
  rpc.close();
  const deadline = Date.now() + opts.drainMs;
  while (engine.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  http.close();
  life.exit(0);
}
