import {Command, Flags} from '@oclif/core';
import {deploymentToken, discoveryFlags, discoveryTarget} from './flags/discovery-flags.js';
import {eventPlaneFlags, natsEventsTarget} from './flags/event-plane-flags.js';
import {configDefaults, configDescription as doc} from '../config/defaults.js';
import {resolveModel} from '../config/models.js';
import {ENGINES, TRANSFER_BACKENDS, WORKER_ROLES} from '../config/schema.js';
import {configNumberFlag, keyNumberFlag, optionalConfigNumberFlag} from './flags/config-numbers.js';

// Defaults and meanings come from the config schema, so a worker started by hand behaves like one
// `dynamo up` starts from an empty config.
const D = configDefaults();

export default class Worker extends Command {
  static override summary = 'Run one engine worker (started by `dynamo up`; runnable by hand for debugging).';
  static override examples = ['<%= config.bin %> worker --model qwen3-0.6b --rpc-port 8100 --metrics-port 8101'];
  static override flags = {
    engine: Flags.string({options: [...ENGINES], default: D.engine, description: doc(['engine'])}),
    role: Flags.string({options: [...WORKER_ROLES], default: 'agg', description: 'serving role'}),
    model: Flags.string({char: 'm', required: true, description: 'model alias or local model directory'}),
    'served-model-name': Flags.string({description: 'name clients use (default: the --model value)'}),
    'worker-id': Flags.string({default: 'worker-0', description: 'unique id in the deployment'}),
    host: Flags.string({default: '127.0.0.1', description: 'address to listen on'}),
    'advertise-host': Flags.string({description: 'address the frontend connects to (default: --host)'}),
    // Each worker takes two ports from workers.basePort: request plane, then metrics (a port's range is basePort's).
    'rpc-port': configNumberFlag(['workers', 'basePort'], {description: 'request-plane port'}),
    'metrics-port': keyNumberFlag({key: ['workers', 'basePort'], default: D.workers.basePort + 1, description: 'health and Prometheus metrics port'}),
    'block-size': configNumberFlag(['router', 'blockSize']),
    ...discoveryFlags,
    ...eventPlaneFlags,
    'num-gpu-blocks': optionalConfigNumberFlag(['mocker', 'numGpuBlocks']),
    'tensor-parallel-size': optionalConfigNumberFlag(['workers', 'agg', 'tensorParallelSize'], {aliases: ['tp']}),
    'gpu-memory-gb': configNumberFlag(['mocker', 'gpuMemoryGb']),
    'max-num-seqs': configNumberFlag(['mocker', 'maxNumSeqs']),
    'max-num-batched-tokens': configNumberFlag(['mocker', 'maxNumBatchedTokens']),
    'speedup-ratio': configNumberFlag(['mocker', 'speedupRatio'], {allowInfinity: true, description: `${doc(['mocker', 'speedupRatio'])}; inf is the same`}),
    'kv-lease-ms': configNumberFlag(['disaggregation', 'leaseMs']),
    'kv-transfer-backend': Flags.string({default: D.disaggregation.transferBackend, options: [...TRANSFER_BACKENDS], description: doc(['disaggregation', 'transferBackend'])}),
    'kv-memory-scale': configNumberFlag(['disaggregation', 'kvMemoryScale']),
    'drain-ms': Flags.integer({default: 3000, description: 'on stop, time to let in-flight requests finish'}),
    'engine-request-limit': configNumberFlag(['workers', 'engineRequestLimit'], {env: 'DYN_ENGINE_REQUEST_LIMIT'}),
    'engine-run': Flags.string({description: "real engines: the engine's launch, as JSON (`dynamo up` plans it; see `dynamo up --dry-run --json`)"}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Worker);
    const {runWorker} = await import('../worker/worker.js');
    const {parseEngineRun} = await import('../worker/options.js');
    await runWorker({
      engine: flags.engine,
      role: flags.role as (typeof WORKER_ROLES)[number],
      model: resolveModel(flags.model),
      servedModelName: flags['served-model-name'] ?? flags.model,
      workerId: flags['worker-id'],
      host: flags.host,
      advertiseHost: flags['advertise-host'] ?? flags.host,
      rpcPort: flags['rpc-port'],
      metricsPort: flags['metrics-port'],
      blockSize: flags['block-size'],
      discovery: discoveryTarget(flags),
      requestPlaneToken: deploymentToken(flags),
      natsEvents: natsEventsTarget(flags),
      numGpuBlocks: flags['num-gpu-blocks'],
      tensorParallelSize: flags['tensor-parallel-size'],
      gpuMemoryGb: flags['gpu-memory-gb'],
      maxNumSeqs: flags['max-num-seqs'],
      maxNumBatchedTokens: flags['max-num-batched-tokens'],
      speedupRatio: flags['speedup-ratio'],
      drainMs: flags['drain-ms'],
      requestLimit: flags['engine-request-limit'],
      kvTransfer: {leaseMs: flags['kv-lease-ms'], backend: flags['kv-transfer-backend'] as (typeof TRANSFER_BACKENDS)[number], memoryScale: flags['kv-memory-scale']},
      engineRun: flags['engine-run'] === undefined ? undefined : parseEngineRun(flags['engine-run']),
    });
  }
}
