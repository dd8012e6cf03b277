/**
 * The one definition of a deployment's configuration. Files, DYN_* env twins and flags are merged
 * into one object and parsed here once (see load.ts). Objects are strict: an unknown key in a config
 * file is an error, not silently ignored.
 */
import {z} from 'zod';
import {ENGINES, runsInWorker} from './engines.js';
import {NOT_YET} from './not-yet.js';

export {ENGINES};
/** How KV blocks move between prefill and decode workers (src/native/transfer.ts). */
export const TRANSFER_BACKENDS = ['auto', 'shm', 'tcp', 'ucx', 'cuda'] as const;

export const ADMISSION_CONTROLS = ['none', 'token-capacity'] as const;
export const ROUTER_MODES = ['round-robin', 'random', 'kv'] as const;
/** HTTP statuses of a request admission control rejects. */
export const OVERLOAD_STATUS_CODES = [529, 503] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const WORKER_ROLES = ['agg', 'prefill', 'decode'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];
/** Where workers register and the frontend finds them (src/runtime/discovery/). */
export const DISCOVERY_BACKENDS = ['file', 'etcd'] as const;
/** How KV events reach the routers (src/runtime/event-plane/). */
export const EVENT_PLANES = ['tcp', 'nats'] as const;

const port = z.number().int().min(1).max(65535);

/** Options of the schema: `dynamo sanity` judges a box for a deployment this build cannot run yet. */
export interface SchemaOptions {
  /** Accept the values not-yet.ts refuses (engine arguments for the mocker); only sanity asks for this. */
  allowUnavailable?: boolean;
}

const workerGroup = (count: number) =>
  z
    .strictObject({
      count: z.number().int().min(0).max(1024).default(count).describe('number of workers of this role'),
      hosts: z
        .array(z.string().min(1))
        .min(1)
        .default(['local'])
        .describe('hosts to place workers on, round-robin; "local" or a name under `hosts`'),
      tensorParallelSize: z
        .number()
        .int()
        .min(1)
        .max(64)
        .optional()
        .describe('GPUs each worker spans (tensor parallelism); unset = the fewest, a power of two, that hold the weights within 60% of GPU memory'),
      dataParallelSize: z.number().int().min(1).max(64).default(1).describe('real engines: data-parallel ranks each worker runs (each on tensorParallelSize GPUs)'),
      expertParallel: z.boolean().default(false).describe('real engines: spread MoE experts over the worker\'s tensor × data parallel GPUs'),
      engineArgs: z
        .array(z.string())
        .default([])
        .describe('real engines: extra arguments passed to the engine as-is, after ours (checked against the engine\'s CLI at plan time)'),
    })
    .prefault({});

export const sshHostSchema = z.strictObject({
  address: z.string().min(1).describe('hostname or IP the SSH client connects to'),
  advertiseAddress: z.string().min(1).optional().describe('address the frontend and other hosts reach this host\'s workers at (default: address; set it when SSH goes through another name or network)'),
  user: z.string().min(1).optional().describe('login user (default: the SSH default)'),
  port: port.default(22),
  identityFile: z.string().min(1).optional().describe('private key file for this host'),
  knownHostsFile: z
    .string()
    .min(1)
    .optional()
    .describe('known_hosts file to check the host key against (host key checking stays on)'),
  dynamoPath: z.string().min(1).optional().describe('path of the dynamo binary on that host (unset: dynamo up copies this build to ~/.dynamo/bin there when it is not there already)'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name: letters, digits and "_"'), z.string())
    .optional()
    .describe('environment of every process on that host, and of the GPU probe there (e.g. PATH with the engine\'s virtualenv first, HF_HOME); values are taken as written, no $VAR expansion'),
});
export type SshHost = z.infer<typeof sshHostSchema>;

/** The config schema; `allowUnavailable` builds the variant `dynamo sanity` loads with. */
export const buildConfigSchema = (opts: SchemaOptions = {}) => z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'use lowercase letters, digits, ".", "_" or "-" (max 63)')
    .default('default')
    .describe('deployment name; several deployments run side by side under different names'),
  model: z.string({error: (iss) => (iss.input === undefined ? 'model is required' : 'expected a string')}).min(1).describe('model alias from `dynamo models` or a local model directory'),
  engine: z
    .enum(ENGINES)
    .default('mocker')
    .describe(`engine the workers run (${ENGINES.join(', ')}): llamacpp runs a .gguf file on the CPU, vllm/sglang/trtllm run on NVIDIA GPUs`),
  disagg: z.boolean().default(false).describe('disaggregated serving: separate prefill and decode workers'),
  disaggregation: z
    .strictObject({
      maxLocalPrefillLength: z.number().int().min(0).default(1000).describe('prefill on the decode worker when the uncached part of the prompt is at most this many tokens'),
      maxPrefillQueueSize: z.number().int().min(0).default(2).describe('prefill on the decode worker when the chosen prefill worker already has this many requests (0 = no limit)'),
      leaseMs: z.number().int().positive().default(30_000).describe('how long a prefill worker holds a request\'s KV blocks for the decode worker to pull'),
      transferBackend: z.enum(TRANSFER_BACKENDS).default('auto').describe('how KV blocks move: shm (same host), tcp, ucx (UCX on both sides), cuda (blocks in GPU memory: CUDA IPC on the same host, else tcp through host buffers), or auto (shm on the same host, else tcp)'),
      kvMemoryScale: z.number().gt(0).lte(1).default(1 / 64).describe("mocker: share of the model's real KV bytes a block holds in memory (what a transfer moves)"),
    })
    .prefault({}),
  workers: z
    .strictObject({
      agg: workerGroup(2),
      prefill: workerGroup(1),
      decode: workerGroup(1),
      basePort: port.default(8100).describe('first port for workers; each takes two (request plane, metrics)'),
      engineRequestLimit: z.number().int().min(0).default(0).describe('requests in flight past which a worker sheds new ones (the frontend tries another worker, else answers 503); 0 = no limit'),
    })
    .prefault({}),
  frontend: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1').describe('address the HTTP frontend listens on'),
      port: port.default(8000),
      apiKey: z.string().min(1).optional().describe('require this bearer token on API requests'),
      tlsCert: z.string().min(1).optional().describe('PEM certificate file: the frontend serves HTTPS (with tlsKey)'),
      tlsKey: z.string().min(1).optional().describe('PEM private key file of tlsCert'),
      bodyLimitMb: z.number().int().positive().default(45).describe('largest request body (413 above)'),
      migrationLimit: z.number().int().min(0).max(100).default(0).describe('times a request moves to another worker when its worker dies or drops it mid-stream (0 = off; 3 is a good start)'),
      migrationMaxSeqLen: z.number().int().positive().optional().describe('a request whose prompt plus output grows past this many tokens is no longer migrated (unset = no limit)'),
      admissionControl: z.enum(ADMISSION_CONTROLS).default('none').describe('token-capacity: reject a request at once (overloadStatusCode, Retry-After) when every worker is saturated and the router queue already holds one step of prefill tokens for every worker; none: queue everything'),
      overloadStatusCode: z.literal(OVERLOAD_STATUS_CODES).default(529).describe('HTTP status of a request admission control rejects'),
      preTouchMb: z.number().int().min(0).default(0).describe('heap (MB) the frontend touches before it opens its port and keeps, so that on a VM whose first touch of a page is slow its caches grow into resident memory, not page faults during requests; size it to the frontend\'s resident memory after a long run (e.g. 1024 for ~1 GB); 0 = off'),
    })
    .refine((f) => !f.tlsCert === !f.tlsKey, {message: 'tlsCert and tlsKey go together', path: ['tlsKey'], params: {fix: 'set both (PEM files), or neither'}})
    .prefault({}),
  hosts: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), sshHostSchema).default({}).describe('SSH hosts by name'),
  router: z
    .strictObject({
      mode: z.enum(ROUTER_MODES).default('kv').describe('how a worker is chosen: kv (KV-cache aware), round-robin, random'),
      blockSize: z.number().int().min(1).max(1024).default(16).describe('KV block size in tokens (workers and router must agree)'),
      overlapWeight: z.number().min(0).default(1).describe('kv: weight of prefill blocks against decode blocks in the KV cost'),
      temperature: z.number().min(0).default(0).describe('kv: softmax temperature over worker costs (0 = argmin)'),
      kvEvents: z.boolean().default(true).describe('kv: learn worker caches from KV events (false = approximate mode)'),
      ttlSecs: z.number().positive().default(120).describe('approximate mode: how long a routed prefix counts as cached'),
      maxTreeSize: z.number().int().positive().default(1048576).describe('approximate mode: blocks tracked before pruning'),
      pruneTargetRatio: z.number().gt(0).lte(1).default(0.8).describe('approximate mode: prune down to this share of the max'),
      queueThreshold: z.number().min(0).default(4).describe('kv: park requests while every worker has more pending prefill tokens than this × its max_num_batched_tokens (0 = off)'),
      busyMaxInflight: z.number().int().min(0).default(0).describe('requests in flight that make a worker busy (0 = off)'),
      busyKvUsage: z.number().gt(0).lte(1).default(1).describe('KV usage that makes a worker busy (1 = off); all busy → 503'),
    })
    .prefault({}),
  discovery: z
    .strictObject({
      backend: z.enum(DISCOVERY_BACKENDS).default('file').describe('where workers register and the frontend finds them: file (the run directory; one machine or a shared filesystem) or etcd (any number of hosts)'),
      etcdEndpoints: z.array(z.string().url()).min(1).optional().describe('etcd client URLs for backend etcd; unset: `dynamo up` runs one etcd itself on this machine'),
      etcdPort: port.default(2379).describe('the etcd `dynamo up` runs: its client port (its peer port is the next one)'),
      etcdHost: z.string().min(1).default('127.0.0.1').describe('the etcd `dynamo up` runs: the address it listens on, which every host must reach (this machine\'s network address when workers run on other hosts)'),
      leaseTtlS: z.number().int().min(2).max(3600).default(10).describe('etcd: seconds a worker\'s registration outlives its last keep-alive (a dead worker leaves routing within this)'),
    })
    .prefault({}),
  eventPlane: z
    .strictObject({
      backend: z.enum(EVENT_PLANES).default('tcp').describe('how KV events reach routers: tcp (each frontend subscribes to each worker over the request plane) or nats (workers publish on NATS, every frontend subscribes: for several frontends)'),
      natsUrl: z.string().url().optional().describe('NATS server URL for backend nats; unset: `dynamo up` runs one nats-server itself on this machine'),
      natsPort: port.default(4222).describe('the nats-server `dynamo up` runs: its client port (its monitoring port is the next one)'),
      natsHost: z.string().min(1).default('127.0.0.1').describe('the nats-server `dynamo up` runs: the address it listens on, which every host must reach'),
    })
    .prefault({}),
  supervisor: z
    .strictObject({
      readyTimeoutMs: z.number().int().positive().default(60_000).describe('time budget for each process to become ready'),
      stopGraceMs: z.number().int().min(0).default(5_000).describe('time between SIGTERM and SIGKILL on stop'),
      maxRestarts: z.number().int().min(0).default(5).describe('consecutive restarts of a crashed worker before giving up'),
      restartBackoffMs: z.number().int().min(0).default(500).describe('first restart delay; doubles each time'),
      restartBackoffMaxMs: z.number().int().min(0).default(30_000),
    })
    .prefault({}),
  mocker: z
    .strictObject({
      speedupRatio: z.number().min(0).default(1).describe('divides modelled step times; 0 = as fast as possible'),
      gpuMemoryGb: z.number().int().positive().default(80).describe('simulated memory per GPU (sizes the KV cache)'),
      numGpuBlocks: z.number().int().positive().optional().describe('KV blocks per worker (default: from the model and GPU memory)'),
      maxNumSeqs: z.number().int().positive().default(256).describe('most sequences in a batch'),
      maxNumBatchedTokens: z.number().int().positive().default(8192).describe('token budget per engine step'),
    })
    .prefault({}),
  engineOptions: z
    .strictObject({
      gpuMemoryFraction: z.number().gt(0).lte(1).default(0.9).describe('real engines: share of each GPU\'s memory the engine may take (weights, activations, KV cache)'),
      maxModelLen: z.number().int().positive().optional().describe('real engines: longest sequence (prompt + output) in tokens (default: the model\'s context length)'),
      prefixCaching: z.boolean().default(true).describe('real engines: keep finished prompts\' KV blocks for reuse, and publish KV events for the router'),
      checkEngineArgs: z.boolean().default(true).describe('real engines: refuse at plan time engine arguments the engine\'s CLI would reject (false: pass them unchecked, e.g. a flag newer than this build knows)'),
      loadTimeoutMs: z.number().int().positive().default(1_800_000).describe('real engines: budget for an engine to load its model and serve'),
      basePort: port.default(8300).describe('real engines: first port of the engines\' HTTP servers; each worker\'s engine takes one'),
      kvEventsBasePort: port.default(20080).describe('real engines: first ZMQ port of the engines\' KV events; each worker takes two per data-parallel rank'),
      transferBasePort: port.default(5600).describe('real engines: first port of the disaggregation side channels (vLLM NIXL handshake, SGLang bootstrap); each worker takes one per data-parallel rank'),
    })
    .prefault({}),
  logLevel: z.enum(LOG_LEVELS).default('info'),
}).superRefine((c, ctx) => {
  // Engine arguments are for the GPU engines; the in-worker engines' knobs are the mocker section's.
  if (opts.allowUnavailable || !runsInWorker(c.engine)) return;
  for (const role of WORKER_ROLES) {
    if (c.workers[role].engineArgs.length) ctx.addIssue({code: 'custom', path: ['workers', role, 'engineArgs'], params: NOT_YET.engineArgs.params, message: NOT_YET.engineArgs.error()});
  }
});

export const configSchema = buildConfigSchema();

export type DynamoConfig = z.infer<typeof configSchema>;
export type DynamoConfigInput = z.input<typeof configSchema>;

/** JSON Schema for editors (`dynamo config schema`). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'dynamo deployment config',
    ...z.toJSONSchema(configSchema, {io: 'input', unrepresentable: 'any'}),
  };
}
