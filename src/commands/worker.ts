import {Command, Flags} from '@oclif/core';
import {ENGINES, WORKER_ROLES} from '../config/schema.js';
import {resolveModel} from '../config/models.js';
import {runWorker} from '../worker/worker.js';
import {dynamoHome, runDirOf} from '../supervisor/run-dir.js';

export default class Worker extends Command {
  static override summary = 'Run one engine worker (started by `dynamo up`; runnable by hand for debugging).';
  static override examples = ['<%= config.bin %> worker --model qwen3-0.6b --rpc-port 8100 --metrics-port 8101'];
  static override flags = {
    engine: Flags.string({options: [...ENGINES], default: 'mocker', description: 'engine to run'}),
    role: Flags.string({options: [...WORKER_ROLES], default: 'agg', description: 'serving role'}),
    model: Flags.string({char: 'm', required: true, description: 'model alias or local model directory'}),
    'served-model-name': Flags.string({description: 'name clients use (default: the --model value)'}),
    'worker-id': Flags.string({default: 'worker-0', description: 'unique id in the deployment'}),
    host: Flags.string({default: '127.0.0.1', description: 'address to listen on'}),
    'advertise-host': Flags.string({description: 'address the frontend connects to (default: --host)'}),
    'rpc-port': Flags.integer({default: 8100, description: 'request-plane port'}),
    'metrics-port': Flags.integer({default: 8101, description: 'health and Prometheus metrics port'}),
    'block-size': Flags.integer({default: 16, description: 'KV block size in tokens'}),
    'discovery-dir': Flags.string({description: 'file discovery store (default: the default deployment run directory)'}),
    'num-gpu-blocks': Flags.integer({description: 'KV blocks (default: from the model and --gpu-memory-gb)'}),
    'gpu-memory-gb': Flags.integer({default: 80, description: 'simulated memory per GPU'}),
    'max-num-seqs': Flags.integer({default: 256, description: 'most sequences in a batch'}),
    'max-num-batched-tokens': Flags.integer({default: 8192, description: 'token budget per engine step'}),
    'speedup-ratio': Flags.string({default: '1', description: 'mocker time divisor (0 or inf: as fast as possible)'}),
    'drain-ms': Flags.integer({default: 3000, description: 'on stop, time to let in-flight requests finish'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Worker);
    const speed = flags['speedup-ratio'] === 'inf' ? Number.POSITIVE_INFINITY : Number(flags['speedup-ratio']);
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
      discoveryDir: flags['discovery-dir'] ?? `${runDirOf(dynamoHome(), 'default')}/discovery`,
      numGpuBlocks: flags['num-gpu-blocks'],
      gpuMemoryGb: flags['gpu-memory-gb'],
      maxNumSeqs: flags['max-num-seqs'],
      maxNumBatchedTokens: flags['max-num-batched-tokens'],
      speedupRatio: Number.isNaN(speed) ? 1 : speed,
      drainMs: flags['drain-ms'],
    });
  }
}
