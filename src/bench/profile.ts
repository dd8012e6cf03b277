/**
 * A bench profile (`sla.yaml`): what to load, how hard, and the SLOs to judge it by. One zod schema
 * for the file and the flags (flags win, key by key); every field has a flag named as AIPerf names
 * it. A list of concurrencies or request rates is a sweep: one run per value.
 */
import {z} from 'zod';

export const ARRIVALS = ['poisson', 'constant', 'gamma'] as const;
export const ENDPOINTS = ['chat', 'completions'] as const;

const positive = z.number().positive();
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

const target = z
  .strictObject({
    url: z.url().optional().describe('OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (default: the running `dynamo up` deployment)'),
    deployment: z.string().min(1).optional().describe('name of the running `dynamo up` deployment to load (default: the only one running)'),
    model: z.string().min(1).optional().describe('model name sent in requests (default: the deployment\'s model, else the first of /v1/models)'),
    apiKey: z.string().optional().describe('bearer token (default: $OPENAI_API_KEY)'),
    endpoint: z.enum(ENDPOINTS).default('chat').describe('chat = /v1/chat/completions, completions = /v1/completions'),
    tokenizer: z.string().min(1).optional().describe('model alias or local model directory whose tokenizer counts tokens (default: the model, when known)'),
    timeoutS: positive.default(600).describe('a request still running after this long is cancelled and counted as a timeout'),
    ignoreEos: z.boolean().default(true).describe('send ignore_eos and min_tokens so every reply has exactly the requested length'),
    countTokens: z
      .enum(['tokenizer', 'usage'])
      .default('tokenizer')
      .describe('output lengths (and so TPOT) by re-tokenizing the text, as AIPerf does, or from the server\'s usage, as vLLM does'),
    extraBody: z.record(z.string(), z.unknown()).default({}).describe('extra request fields, sent as they are'),
  })
  .prefault({});

const workload = z
  .strictObject({
    isl: z.number().int().min(1).default(512).describe('synthetic input length in tokens (mean)'),
    islStddev: z.number().min(0).default(0).describe('standard deviation of the input length'),
    osl: z.number().int().min(1).default(128).describe('output length in tokens (mean), forced through max_tokens'),
    oslStddev: z.number().min(0).default(0).describe('standard deviation of the output length'),
    prefixGroups: z.number().int().min(0).default(0).describe('shared-prefix groups: each prompt starts with one of this many shared texts'),
    prefixLength: z.number().int().min(0).default(0).describe('tokens of each shared prefix (part of the input length)'),
    sessionTurns: z.number().int().min(1).default(1).describe('turns per multi-turn session (mean); each turn carries the conversation so far'),
    sessionTurnsStddev: z.number().min(0).default(0),
    thinkTimeMs: z.number().min(0).default(0).describe('pause between a reply and the session\'s next turn (mean)'),
    thinkTimeStddevMs: z.number().min(0).default(0),
    trace: z.string().min(1).optional().describe('Mooncake JSONL trace to replay (timestamp, input_length, output_length, hash_ids)'),
    traceBlockSize: z.number().int().min(1).default(512).describe('tokens per trace hash id (512 for the Mooncake traces)'),
    speedup: positive.default(1).describe('trace replay: divide timestamps by this factor'),
    prompts: z.string().min(1).optional().describe('JSONL file of real prompts: {"messages": [...], "max_tokens"?: n} or {"prompt": "..."} per line'),
  })
  .prefault({});

const load = z
  .strictObject({
    concurrency: oneOrMany(z.number().int().min(1)).optional().describe('closed loop: requests in flight (a list is a sweep); with a request rate, a ceiling'),
    requestRate: oneOrMany(positive).optional().describe('open loop: requests per second (a list is a sweep)'),
    arrival: z.enum(ARRIVALS).default('poisson').describe('open-loop arrival process'),
    arrivalSmoothness: positive.default(1).describe('gamma arrivals: shape (1 = Poisson, < 1 burstier, > 1 smoother)'),
    requestCount: z.number().int().min(1).optional().describe('requests per run (default 100; a trace: all its lines)'),
    durationS: positive.optional().describe('stop sending after this long (whichever of count and duration comes first)'),
    gracePeriodS: z.number().min(0).default(30).describe('duration runs: how long in-flight requests may finish after the last send before they are cancelled'),
    warmupRequests: z.number().int().min(0).default(0).describe('requests sent and discarded before each run'),
  })
  .prefault({});

const slo = z
  .strictObject({
    ttftMs: positive.optional().describe('time to first token'),
    ttstMs: positive.optional().describe('time to second token'),
    tpotMs: positive.optional().describe('time per output token after the first (AIPerf "inter_token_latency", vLLM "TPOT")'),
    e2eMs: positive.optional().describe('request latency'),
    attainment: z.number().gt(0).max(1).default(0.9).describe('share of requests that must meet every SLO for a load to pass'),
  })
  .prefault({});

export const profileSchema = z.strictObject({
  target,
  workload,
  load,
  slo,
  seed: z.number().int().min(0).default(0).describe('seed of prompts, lengths and arrivals'),
  outputDir: z.string().min(1).optional().describe('where results go (default: bench-results/<date-time>)'),
});

export type BenchProfile = z.infer<typeof profileSchema>;
export type BenchProfileInput = z.input<typeof profileSchema>;
export type SloMetric = 'ttftMs' | 'ttstMs' | 'tpotMs' | 'e2eMs';
export const SLO_METRICS: readonly SloMetric[] = ['ttftMs', 'ttstMs', 'tpotMs', 'e2eMs'];

/** The SLOs a profile sets, as metric limits. */
export function slosOf(p: BenchProfile): {metric: SloMetric; maxMs: number}[] {
  return SLO_METRICS.flatMap((m) => (p.slo[m] === undefined ? [] : [{metric: m, maxMs: p.slo[m]!}]));
}

/** How a run's requests are released. */
export type LoadPoint =
  | {mode: 'concurrency'; concurrency: number}
  | {mode: 'rate'; requestRate: number; concurrency?: number}
  | {mode: 'schedule'; speedup: number; concurrency?: number};

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * The runs a profile asks for, in order. A rate (list) sweeps open loop, capped by a single
 * concurrency; a concurrency list alone sweeps closed loop; a trace with neither keeps its own
 * timestamps. With nothing set: concurrency 1.
 */
export function loadPoints(p: BenchProfile): LoadPoint[] {
  const conc = list(p.load.concurrency);
  const rates = list(p.load.requestRate);
  if (rates.length) {
    if (conc.length > 1) throw new Error('sweep either request rates or concurrencies, not both: give one concurrency as the ceiling of a rate sweep');
    return rates.map((r) => ({mode: 'rate', requestRate: r, ...(conc.length ? {concurrency: conc[0]} : {})}));
  }
  if (conc.length) return conc.map((c) => ({mode: 'concurrency', concurrency: c}));
  if (p.workload.trace) return [{mode: 'schedule', speedup: p.workload.speedup}];
  return [{mode: 'concurrency', concurrency: 1}];
}

export const describePoint = (l: LoadPoint): string =>
  l.mode === 'concurrency'
    ? `concurrency ${l.concurrency}`
    : l.mode === 'rate'
      ? `${l.requestRate} req/s${l.concurrency ? ` (≤ ${l.concurrency} in flight)` : ''}`
      : `trace schedule ×${l.speedup}${l.concurrency ? ` (≤ ${l.concurrency} in flight)` : ''}`;

/** JSON Schema of sla.yaml (`dynamo bench --print-schema`). */
export function profileJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'dynamo bench profile (sla.yaml)',
    ...z.toJSONSchema(profileSchema, {io: 'input', unrepresentable: 'any'}),
  };
}
