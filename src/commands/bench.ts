import {resolve} from 'node:path';
import {Command, Flags} from '@oclif/core';
import {Listr, ProcessOutput} from 'listr2';
import {Cancelled, UserError} from '../shared/errors.js';
import {err, json, out} from '../shared/output.js';
import {type PointResult, recommend} from '../bench/analyze.js';
import {consoleTable, progressLine} from '../bench/console.js';
import {type ProfileOverride, loadProfile} from '../bench/profile-load.js';
import {ARRIVALS, ENDPOINTS, profileJsonSchema} from '../bench/profile.js';
import {plannedRequests} from '../bench/load.js';
import {defaultOutputDir, prepareBench, runPoint, writeOutputs} from '../bench/run.js';
import {EMBEDDED_TEMPLATES} from '../templates/embedded.js';
import {dynamoHome} from '../supervisor/run-dir.js';

/** "1,2,4" → [1, 2, 4]; "8" → 8. */
function numberList(name: string, v: string | undefined): number | number[] | undefined {
  if (v === undefined) return undefined;
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new UserError(`--${name} must be a number or a comma-separated list of numbers, got "${v}"`);
  return xs.length === 1 ? xs[0] : xs;
}

const GOODPUT_NAMES: Record<string, string> = {
  ttft: 'ttftMs',
  time_to_first_token: 'ttftMs',
  ttst: 'ttstMs',
  time_to_second_token: 'ttstMs',
  tpot: 'tpotMs',
  inter_token_latency: 'tpotMs',
  itl: 'tpotMs',
  e2el: 'e2eMs',
  e2e: 'e2eMs',
  request_latency: 'e2eMs',
};

/** AIPerf's "time_to_first_token:200 inter_token_latency:20" or vLLM's "ttft:200 tpot:20" → SLO keys. */
function goodputSlos(v: string | undefined): Record<string, number> | undefined {
  if (v === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const part of v.split(/[\s,]+/).filter(Boolean)) {
    const [k, raw] = part.split(':');
    const key = GOODPUT_NAMES[k?.toLowerCase() ?? ''];
    const ms = Number(raw);
    if (!key || !(ms > 0)) throw new UserError(`--goodput: cannot read "${part}"`, `write metric:milliseconds pairs, e.g. "ttft:500 tpot:50" (metrics: ${Object.keys(GOODPUT_NAMES).join(', ')})`);
    out[key] = ms;
  }
  return out;
}

export default class Bench extends Command {
  static override summary = 'Load an OpenAI-compatible server and report latency, throughput and SLA goodput.';
  static override description =
    'Metrics are named and defined as in AIPerf (inter_token_latency = time per output token = vLLM TPOT; inter_chunk_latency = vLLM ITL). Without --url the running `dynamo up` deployment is loaded. A list of concurrencies or request rates is a sweep; with SLOs, the highest load meeting them is recommended. Results go to --output-dir: profile_export.json, .csv, .jsonl (per request) and report.html.';
  static override examples = [
    '<%= config.bin %> bench --profile sla.yaml',
    '<%= config.bin %> bench --concurrency 1,2,4,8 --isl 1024 --osl 128 --goodput "ttft:500 tpot:50"',
    '<%= config.bin %> bench --url http://127.0.0.1:8000/v1 --model deepseek-r1 --request-rate 10 --duration 60',
    '<%= config.bin %> bench --trace mooncake_fast25_conversation_trace.jsonl --speedup 4 --request-count 500',
    '<%= config.bin %> bench --print-template > sla.yaml',
  ];
  static override flags = {
    profile: Flags.string({char: 'p', description: 'profile file (sla.yaml); flags override its keys'}),
    url: Flags.string({description: 'base URL of the OpenAI-compatible server (default: the running `dynamo up` deployment)'}),
    deployment: Flags.string({description: 'running `dynamo up` deployment to load, by name'}),
    model: Flags.string({char: 'm', description: 'model name in requests (default: the deployment\'s, else the first of /v1/models)'}),
    'api-key': Flags.string({description: 'bearer token (default: $OPENAI_API_KEY)'}),
    endpoint: Flags.string({description: 'API to call', options: [...ENDPOINTS]}),
    tokenizer: Flags.string({description: 'model alias or directory whose tokenizer counts tokens (default: the model)'}),
    'count-tokens': Flags.string({description: 'output lengths by re-tokenizing (AIPerf) or from usage (vLLM)', options: ['tokenizer', 'usage']}),
    'request-timeout': Flags.string({description: 'seconds before a request counts as a timeout'}),
    'ignore-eos': Flags.boolean({description: 'force output lengths with ignore_eos/min_tokens', allowNo: true}),
    isl: Flags.integer({description: 'input tokens per request (mean)', min: 1}),
    'isl-stddev': Flags.string({description: 'standard deviation of input tokens'}),
    osl: Flags.integer({description: 'output tokens per request (mean), via max_tokens', min: 1}),
    'osl-stddev': Flags.string({description: 'standard deviation of output tokens'}),
    'prefix-groups': Flags.integer({description: 'shared-prefix groups (AIPerf --num-prefix-prompts)', min: 0}),
    'prefix-length': Flags.integer({description: 'tokens of each shared prefix (AIPerf --prefix-prompt-length)', min: 0}),
    'session-turns': Flags.integer({description: 'turns per multi-turn session (mean)', min: 1}),
    'think-time': Flags.string({description: 'ms between a reply and the session\'s next turn (mean)'}),
    trace: Flags.string({description: 'Mooncake JSONL trace to replay on its timestamps'}),
    'trace-block-size': Flags.integer({description: 'tokens per trace hash id', min: 1}),
    speedup: Flags.string({description: 'trace replay: divide timestamps by this factor'}),
    prompts: Flags.string({description: 'JSONL file of prompts ({"messages": [...]} or {"prompt": "..."} per line)'}),
    concurrency: Flags.string({description: 'requests in flight, closed loop; a list (1,2,4) is a sweep'}),
    'request-rate': Flags.string({description: 'requests/s, open loop; a list is a sweep'}),
    arrival: Flags.string({description: 'open-loop arrivals (AIPerf --arrival-pattern)', options: [...ARRIVALS]}),
    'arrival-smoothness': Flags.string({description: 'gamma arrivals: shape (1 = Poisson, < 1 burstier)'}),
    'request-count': Flags.integer({description: 'requests per run', min: 1}),
    duration: Flags.string({description: 'seconds to send for, per run'}),
    'grace-period': Flags.string({description: 'seconds in-flight requests may finish after --duration'}),
    'warmup-request-count': Flags.integer({description: 'requests sent and discarded before each run', min: 0}),
    goodput: Flags.string({description: 'SLOs as "ttft:500 tpot:50 e2el:8000" (AIPerf names work too)'}),
    'slo-attainment': Flags.string({description: 'share of requests that must meet every SLO (default 0.9)'}),
    seed: Flags.integer({description: 'seed of prompts, lengths and arrivals (AIPerf --random-seed)', min: 0}),
    'output-dir': Flags.string({description: 'directory for the result files (default: bench-results/<date-time>)'}),
    json: Flags.boolean({description: 'print the aggregate JSON to stdout'}),
    'print-schema': Flags.boolean({description: 'print the JSON Schema of the profile file and exit'}),
    'print-template': Flags.boolean({description: 'print a commented sample sla.yaml and exit'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Bench);
    if (flags['print-schema']) return json(profileJsonSchema());
    if (flags['print-template']) return out(EMBEDDED_TEMPLATES['bench/sla.yaml']!.trimEnd());
    const num = (name: keyof typeof flags) => {
      const v = flags[name];
      if (v === undefined) return undefined;
      const x = Number(v);
      if (!Number.isFinite(x)) throw new UserError(`--${name} must be a number, got "${v}"`);
      return x;
    };
    const o = (path: string, flag: string, value: unknown): ProfileOverride => ({path: path.split('.'), flag: `--${flag}`, value});
    const profile = loadProfile(flags.profile, [
      o('target.url', 'url', flags.url),
      o('target.deployment', 'deployment', flags.deployment),
      o('target.model', 'model', flags.model),
      o('target.apiKey', 'api-key', flags['api-key']),
      o('target.endpoint', 'endpoint', flags.endpoint),
      o('target.tokenizer', 'tokenizer', flags.tokenizer),
      o('target.countTokens', 'count-tokens', flags['count-tokens']),
      o('target.timeoutS', 'request-timeout', num('request-timeout')),
      o('target.ignoreEos', 'ignore-eos', flags['ignore-eos']),
      o('workload.isl', 'isl', flags.isl),
      o('workload.islStddev', 'isl-stddev', num('isl-stddev')),
      o('workload.osl', 'osl', flags.osl),
      o('workload.oslStddev', 'osl-stddev', num('osl-stddev')),
      o('workload.prefixGroups', 'prefix-groups', flags['prefix-groups']),
      o('workload.prefixLength', 'prefix-length', flags['prefix-length']),
      o('workload.sessionTurns', 'session-turns', flags['session-turns']),
      o('workload.thinkTimeMs', 'think-time', num('think-time')),
      o('workload.trace', 'trace', flags.trace),
      o('workload.traceBlockSize', 'trace-block-size', flags['trace-block-size']),
      o('workload.speedup', 'speedup', num('speedup')),
      o('workload.prompts', 'prompts', flags.prompts),
      o('load.concurrency', 'concurrency', numberList('concurrency', flags.concurrency)),
      o('load.requestRate', 'request-rate', numberList('request-rate', flags['request-rate'])),
      o('load.arrival', 'arrival', flags.arrival),
      o('load.arrivalSmoothness', 'arrival-smoothness', num('arrival-smoothness')),
      o('load.requestCount', 'request-count', flags['request-count']),
      o('load.durationS', 'duration', num('duration')),
      o('load.gracePeriodS', 'grace-period', num('grace-period')),
      o('load.warmupRequests', 'warmup-request-count', flags['warmup-request-count']),
      ...Object.entries(goodputSlos(flags.goodput) ?? {}).map(([k, v]) => o(`slo.${k}`, 'goodput', v)),
      o('slo.attainment', 'slo-attainment', num('slo-attainment')),
      o('seed', 'seed', flags.seed),
      o('outputDir', 'output-dir', flags['output-dir']),
    ]);
    const bench = await prepareBench(profile, {home: dynamoHome()});
    const dir = resolve(profile.outputDir ?? defaultOutputDir());
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    err(`bench: ${bench.targetLabel} · model ${bench.target.model} · ${bench.workload.kind} workload · ${bench.points.length} run${bench.points.length > 1 ? 's' : ''}${bench.tokenizer.counter ? ` · tokens counted by the ${bench.tokenizer.counter.name} tokenizer` : ' · tokens from usage (unknown tokenizer)'}`);
    const results: PointResult[] = [];
    const tty = !!process.stderr.isTTY && !process.env.CI;
    const tasks = new Listr(
      bench.points.map((at) => ({
        title: at.label,
        task: async (_: unknown, task: {title: string}) => {
          if (stop.signal.aborted) return;
          const started = performance.now();
          let done = 0;
          let errors = 0;
          let drawn = 0;
          const planned = plannedRequests(at.point, bench.workload, profile.load.requestCount, profile.load.durationS && profile.load.durationS * 1000);
          const r = await runPoint(bench, at, {
            stop: stop.signal,
            onRecord: (rec) => {
              done++;
              if (rec.response.error) errors++;
              // A redraw at most every 100 ms, and none without a terminal: the loop must stay free to send on time.
              const now = performance.now();
              if (!tty || now - drawn < 100) return;
              drawn = now;
              task.title = progressLine(at.label, {done, errors, planned, elapsedMs: now - started, durationMs: profile.load.durationS ? profile.load.durationS * 1000 : undefined});
            },
          });
          results.push(r);
          task.title = `${at.label}: ${r.aggregate.completed}/${r.aggregate.requests} ok · ${r.aggregate.requestThroughput.toFixed(2)} req/s · TTFT p50 ${r.aggregate.ttftMs.p50.toFixed(1)} ms${r.meetsSla ? ' · meets SLA' : ''}`;
          if (!tty) err(`✔ ${task.title}`);
        },
      })),
      {renderer: tty ? 'default' : 'silent', exitOnError: true, registerSignalListeners: false, concurrent: false, processOutput: new ProcessOutput(process.stderr, process.stderr)} as any,
    );
    try {
      await tasks.run();
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    const exported = writeOutputs(bench, results, dir);
    if (flags.json) json(exported);
    else {
      out(consoleTable(results));
      const rec = recommend(results);
      if (results.length > 1 || profile.slo.ttftMs || profile.slo.tpotMs || profile.slo.e2eMs || profile.slo.ttstMs) out(rec.best ? `\n★ Recommended: ${rec.reason}` : `\n✗ ${rec.reason}`);
    }
    err(`results: ${dir}/ (profile_export.json, profile_export.csv, profile_export.jsonl, report.html)`);
    if (stop.signal.aborted) throw new Cancelled('bench stopped; the results so far are written');
  }
}
