import {Args, Command, Flags} from '@oclif/core';
import {err, json, out} from '../shared/output.js';
import {GPU_FACTORS} from '../engines/mocker/perf-model.js';
import {MAX_REPLAY_WORKERS, REPLAY_ROUTERS, replayOptions} from '../replay/options.js';
import {numberFlag, numberListFlag} from './flags/numbers.js';

export default class Replay extends Command {
  static override summary = 'Replay a Mooncake trace through a router and N mocker engines on a virtual clock (no HTTP).';
  static override description =
    'Each hash id of the trace expands to --trace-block-size deterministic tokens, so equal ids give equal prompts; requests with equal timestamps arrive together. Several routers (comma-separated) are replayed on identical engines and reported side by side: prefix-cache hit rate, TTFT/ITL/E2E, throughput, load spread and replay speed (simulated seconds per wall second). With --disagg each prefill/decode split is replayed beside the aggregated run (KV moved over a modelled link, short uncached prompts prefilled on the decode worker); with --goodput each configuration gets the share of requests meeting the SLOs, and the one meeting them with the fewest workers is named (docs/disaggregation.md).';
  static override examples = [
    '<%= config.bin %> replay mooncake_fast25_conversation_trace.jsonl --workers 8 --router kv,approx,round-robin,random',
    '<%= config.bin %> replay trace.jsonl --router kv --speedup 2 --json',
    '<%= config.bin %> replay trace.jsonl --workers 8 --disagg --prefill-workers 2,4 --decode-workers 6,4 --goodput "ttft:500 itl:50"',
  ];
  static override args = {trace: Args.string({description: 'Mooncake JSONL trace', required: true})};
  static override flags = {
    workers: Flags.integer({description: 'mocker engines', default: 8, min: 1, max: MAX_REPLAY_WORKERS}),
    router: Flags.string({description: `router(s), comma-separated: ${REPLAY_ROUTERS.join(', ')}`, default: 'kv'}),
    speedup: numberFlag({description: 'compress arrivals by this factor (2 = twice the request rate)', default: 1}),
    'trace-block-size': Flags.integer({description: 'tokens per trace hash id', default: 512, min: 1}),
    model: Flags.string({description: 'model alias or local model directory (sizes the KV cache and step times)', default: 'llama-3.1-8b'}),
    gpu: Flags.string({description: 'simulated GPU', options: Object.keys(GPU_FACTORS), default: 'h100'}),
    'gpu-memory-gb': Flags.integer({description: 'memory per simulated GPU', default: 80, min: 1}),
    'block-size': Flags.integer({description: 'engine and router KV block size in tokens', default: 64, min: 1}),
    'num-gpu-blocks': Flags.integer({description: 'KV blocks per worker (default: from model and GPU memory)', min: 1}),
    'max-num-seqs': Flags.integer({description: 'engine batch limit', default: 256, min: 1}),
    'max-num-batched-tokens': Flags.integer({description: 'engine tokens per step', default: 8192, min: 1}),
    'overlap-weight': numberFlag({description: 'kv router: weight of prefill blocks against decode blocks', default: 1, min: 0}),
    // oclif's help hides a falsy default; defaultHelp shows the 0.
    temperature: numberFlag({description: 'kv router: softmax temperature (0 = argmin)', default: 0, defaultHelp: async () => '0', min: 0}),
    'ttl-secs': numberFlag({description: 'approx router: how long a routed prefix is assumed cached', default: 120, min: 0}),
    seed: Flags.integer({description: 'seed of random choices', default: 1}),
    disagg: Flags.boolean({description: 'also replay disaggregated prefill/decode splits (--prefill-workers, --decode-workers)'}),
    'prefill-workers': numberListFlag({description: 'disagg: prefill workers of each split, comma-separated (2,4 with --decode-workers 6,4 = 2P+6D and 4P+4D)'}),
    'decode-workers': numberListFlag({description: 'disagg: decode workers of each split, comma-separated, one per prefill count'}),
    'link-gbps': numberFlag({description: 'disagg: KV transfer bandwidth in GB/s (NVLink 450, InfiniBand 25, TCP 2)', default: 450, min: 0}),
    'transfer-latency-ms': numberFlag({description: 'disagg: fixed cost of each KV transfer', default: 0.05, min: 0}),
    'max-local-prefill-length': Flags.integer({description: 'disagg: prompts with at most this many uncached tokens are prefilled on the decode worker', default: 1000, min: 0}),
    goodput: Flags.string({description: 'SLOs in ms, e.g. "ttft:500 itl:50" (also tpot, e2e): share of requests meeting them, per configuration'}),
    'goodput-target': numberFlag({description: 'goodput: % of requests that must meet the SLOs for a configuration to qualify', default: 90, min: 0}),
    json: Flags.boolean({description: 'print the outcome as JSON'}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Replay);
    const [{runReplay}, {describeReplay, replayedLine}] = await Promise.all([import('../replay/run.js'), import('../replay/console.js')]);
    const outcome = await runReplay(replayOptions(args.trace, flags), {onNote: err, onRun: flags.json ? undefined : (r) => err(replayedLine(r))});
    return flags.json ? json(outcome) : out(describeReplay(outcome));
  }
}
