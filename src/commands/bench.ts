import {Command, Flags} from '@oclif/core';
import {json, out} from '../shared/output.js';
import {loadProfile} from '../bench/profile-load.js';
import {profileOverrides} from '../bench/profile-flags.js';
import {ARRIVALS, ENDPOINTS, profileJsonSchema} from '../bench/profile.js';
import {EMBEDDED_TEMPLATES} from '../templates/embedded.js';
import {dynamoHome} from '../supervisor/run-dir.js';
import {numberFlag, numberListFlag, oneOrList} from './flags/numbers.js';

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
    'request-timeout': numberFlag({description: 'seconds before a request counts as a timeout'}),
    'ignore-eos': Flags.boolean({description: 'force output lengths with ignore_eos/min_tokens', allowNo: true}),
    isl: Flags.integer({description: 'input tokens per request (mean)', min: 1}),
    'isl-stddev': numberFlag({description: 'standard deviation of input tokens'}),
    osl: Flags.integer({description: 'output tokens per request (mean), via max_tokens', min: 1}),
    'osl-stddev': numberFlag({description: 'standard deviation of output tokens'}),
    'prefix-groups': Flags.integer({description: 'shared-prefix groups (AIPerf --num-prefix-prompts)', min: 0}),
    'prefix-length': Flags.integer({description: 'tokens of each shared prefix (AIPerf --prefix-prompt-length)', min: 0}),
    'session-turns': Flags.integer({description: 'turns per multi-turn session (mean)', min: 1}),
    'think-time': numberFlag({description: 'ms between a reply and the session\'s next turn (mean)'}),
    trace: Flags.string({description: 'Mooncake JSONL trace to replay on its timestamps'}),
    'trace-block-size': Flags.integer({description: 'tokens per trace hash id', min: 1}),
    speedup: numberFlag({description: 'trace replay: divide timestamps by this factor'}),
    prompts: Flags.string({description: 'JSONL file of prompts ({"messages": [...]} or {"prompt": "..."} per line)'}),
    concurrency: numberListFlag({description: 'requests in flight, closed loop; a list (1,2,4) is a sweep'}),
    'request-rate': numberListFlag({description: 'requests/s, open loop; a list is a sweep'}),
    arrival: Flags.string({description: 'open-loop arrivals (AIPerf --arrival-pattern)', options: [...ARRIVALS]}),
    'arrival-smoothness': numberFlag({description: 'gamma arrivals: shape (1 = Poisson, < 1 burstier)'}),
    'request-count': Flags.integer({description: 'requests per run', min: 1}),
    duration: numberFlag({description: 'seconds to send for, per run'}),
    'grace-period': numberFlag({description: 'seconds in-flight requests may finish after --duration'}),
    'warmup-request-count': Flags.integer({description: 'requests sent and discarded before each run', min: 0}),
    goodput: Flags.string({description: 'SLOs as "ttft:500 tpot:50 e2el:8000" (AIPerf names work too)'}),
    'slo-attainment': numberFlag({description: 'share of requests that must meet every SLO (default 0.9)'}),
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
    // A one-element list is one run, recorded in the export as the number it is.
    const lists = {concurrency: oneOrList(flags.concurrency), 'request-rate': oneOrList(flags['request-rate'])};
    const profile = loadProfile(flags.profile, profileOverrides({...flags, ...lists}));
    const [{runBench}, {benchSummary}] = await Promise.all([import('../bench/session.js'), import('../bench/console.js')]);
    await runBench(profile, {home: dynamoHome(), onResults: (r) => (flags.json ? json(r.exported) : out(benchSummary(r.results, profile)))});
  }
}
