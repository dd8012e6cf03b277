import {Args, Command, Flags} from '@oclif/core';
import {UserError} from '../shared/errors.js';
import {err, json, out, table} from '../shared/output.js';
import {resolveModel} from '../config/models.js';
import {GPU_FACTORS, type GpuKind} from '../engines/mocker/perf-model.js';
import {REPLAY_ROUTERS, type ReplayOutcome, type ReplayRouterMode, type ReplayRunResult, runReplay} from '../replay/run.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ms = (x: number) => (Number.isNaN(x) ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)}s` : `${x.toFixed(0)}`);

function row(r: ReplayRunResult): Record<string, string> {
  const p = r.report;
  return {
    router: r.router,
    'hit blocks': pct(p.hitRate.blocks),
    'hit tokens': pct(p.hitRate.tokens),
    'ttft p50/p90/p99 ms': `${ms(p.ttftMs.p50)} / ${ms(p.ttftMs.p90)} / ${ms(p.ttftMs.p99)}`,
    'ttft mean': ms(p.ttftMs.mean),
    'itl p50 ms': p.itlMs.p50.toFixed(1),
    'e2e p50 ms': ms(p.e2eMs.p50),
    'req/s': p.throughput.requestsPerS.toFixed(2),
    'out tok/s': p.throughput.outputTokensPerS.toFixed(0),
    'load max/mean': p.loadImbalance.toFixed(2),
    unfinished: String(p.unfinished),
    speed: `${r.speed.toFixed(0)}×`,
  };
}

export default class Replay extends Command {
  static override summary = 'Replay a Mooncake trace through a router and N mocker engines on a virtual clock (no HTTP).';
  static override description =
    'Each hash id of the trace expands to --trace-block-size deterministic tokens, so equal ids give equal prompts; requests with equal timestamps arrive together. Several routers (comma-separated) are replayed on identical engines and reported side by side: prefix-cache hit rate, TTFT/ITL/E2E, throughput, load spread and replay speed (simulated seconds per wall second).';
  static override examples = [
    '<%= config.bin %> replay mooncake_fast25_conversation_trace.jsonl --workers 8 --router kv,approx,round-robin,random',
    '<%= config.bin %> replay trace.jsonl --router kv --speedup 2 --json',
  ];
  static override args = {trace: Args.string({description: 'Mooncake JSONL trace', required: true})};
  static override flags = {
    workers: Flags.integer({description: 'mocker engines', default: 8, min: 1, max: 1024}),
    router: Flags.string({description: `router(s), comma-separated: ${REPLAY_ROUTERS.join(', ')}`, default: 'kv'}),
    speedup: Flags.string({description: 'compress arrivals by this factor (2 = twice the request rate)', default: '1'}),
    'trace-block-size': Flags.integer({description: 'tokens per trace hash id', default: 512, min: 1}),
    model: Flags.string({description: 'model alias or local model directory (sizes the KV cache and step times)', default: 'llama-3.1-8b'}),
    gpu: Flags.string({description: 'simulated GPU', options: Object.keys(GPU_FACTORS), default: 'h100'}),
    'gpu-memory-gb': Flags.integer({description: 'memory per simulated GPU', default: 80, min: 1}),
    'block-size': Flags.integer({description: 'engine and router KV block size in tokens', default: 64, min: 1}),
    'num-gpu-blocks': Flags.integer({description: 'KV blocks per worker (default: from model and GPU memory)', min: 1}),
    'max-num-seqs': Flags.integer({description: 'engine batch limit', default: 256, min: 1}),
    'max-num-batched-tokens': Flags.integer({description: 'engine tokens per step', default: 8192, min: 1}),
    'overlap-weight': Flags.string({description: 'kv router: weight of prefill blocks against decode blocks', default: '1'}),
    temperature: Flags.string({description: 'kv router: softmax temperature (0 = argmin)', default: '0'}),
    'ttl-secs': Flags.string({description: 'approx router: how long a routed prefix is assumed cached', default: '120'}),
    seed: Flags.integer({description: 'seed of random choices', default: 1}),
    json: Flags.boolean({description: 'print the outcome as JSON'}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Replay);
    const routers = flags.router.split(',').map((r) => r.trim()) as ReplayRouterMode[];
    for (const r of routers) {
      if (!REPLAY_ROUTERS.includes(r)) throw new UserError(`unknown router "${r}"`, `use one or more of ${REPLAY_ROUTERS.join(', ')}, comma-separated`);
    }
    const num = (name: string, v: string, min: number) => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < min) throw new UserError(`--${name} must be a number ≥ ${min}, got "${v}"`);
      return x;
    };
    const speedup = num('speedup', flags.speedup, Number.MIN_VALUE);
    const blockSize = flags['block-size'];
    if (flags['trace-block-size'] % blockSize) {
      err(`note: --trace-block-size ${flags['trace-block-size']} is not a multiple of --block-size ${blockSize}: every prompt is hashed in full (slower)`);
    }
    const outcome = await runReplay(
      {
        trace: args.trace,
        traceBlockSize: flags['trace-block-size'],
        speedup,
        workers: flags.workers,
        routers,
        model: resolveModel(flags.model),
        gpu: flags.gpu as GpuKind,
        gpuMemoryGb: flags['gpu-memory-gb'],
        blockSize,
        numGpuBlocks: flags['num-gpu-blocks'],
        maxNumSeqs: flags['max-num-seqs'],
        maxNumBatchedTokens: flags['max-num-batched-tokens'],
        overlapWeight: num('overlap-weight', flags['overlap-weight'], 0),
        temperature: num('temperature', flags.temperature, 0),
        ttlSecs: num('ttl-secs', flags['ttl-secs'], 0),
        maxTreeSize: 1 << 20,
        pruneTargetRatio: 0.8,
        seed: flags.seed,
      },
      flags.json ? undefined : (r) => err(`replayed with ${r.router} in ${r.wallS.toFixed(2)} s`),
    );
    if (flags.json) return json(outcome);
    out(describe(outcome));
  }
}

function describe(o: ReplayOutcome): string {
  const e = o.engine;
  const first = o.runs[0]!.report;
  return [
    `${o.trace}: ${o.requests} requests over ${first.durationS.toFixed(0)} s simulated${o.speedup !== 1 ? ` (arrivals ×${o.speedup})` : ''}`,
    `${o.workers} × mocker ${e.model} on ${e.gpu}: ${e.numGpuBlocks} KV blocks of ${e.blockSize} tokens (${(e.kvTokensPerWorker / 1000).toFixed(0)}k tokens) per worker, max ${e.maxNumSeqs} seqs, ${e.maxNumBatchedTokens} tokens/step`,
    `hashing and prefix index: ${o.native ? 'native module' : 'TypeScript (the native module is not built)'}`,
    '',
    table(o.runs.map(row)),
  ].join('\n');
}
