import {Command, Flags} from '@oclif/core';
import {resolveModel} from '../config/models.js';
import {ROUTER_MODES} from '../config/schema.js';
import {runFrontend} from '../frontend/server.js';
import {dynamoHome, runDirOf} from '../supervisor/run-dir.js';

export default class Frontend extends Command {
  static override summary = 'Run the OpenAI-compatible HTTP frontend (started by `dynamo up`; runnable by hand).';
  static override examples = ['<%= config.bin %> frontend --model qwen3-0.6b --port 8000', 'DYN_FRONTEND_API_KEY=secret <%= config.bin %> frontend --model deepseek-r1'];
  static override flags = {
    host: Flags.string({default: '127.0.0.1', env: 'DYN_FRONTEND_HOST', description: 'address to listen on'}),
    port: Flags.integer({default: 8000, env: 'DYN_FRONTEND_PORT', description: 'port to listen on'}),
    model: Flags.string({char: 'm', required: true, env: 'DYN_MODEL', description: 'model alias or local model directory'}),
    'served-model-name': Flags.string({description: 'name clients use in `model` (default: the --model value)'}),
    'api-key': Flags.string({env: 'DYN_FRONTEND_API_KEY', description: 'require `Authorization: Bearer <key>`'}),
    'router-mode': Flags.string({options: [...ROUTER_MODES], default: 'kv', env: 'DYN_ROUTER_MODE', description: 'how a worker is chosen'}),
    'router-block-size': Flags.integer({default: 16, min: 1, description: 'KV block size the router hashes in (must match the workers)'}),
    'router-kv-overlap-score-weight': Flags.string({default: '1', description: 'kv: weight of prefill blocks against decode blocks'}),
    'router-temperature': Flags.string({default: '0', description: 'kv: softmax temperature over worker costs (0 = argmin)'}),
    'router-kv-events': Flags.boolean({default: true, allowNo: true, description: 'kv: learn worker caches from KV events (off: approximate mode)'}),
    'router-ttl-secs': Flags.string({default: '120', description: 'approximate mode: how long a routed prefix counts as cached'}),
    'router-max-tree-size': Flags.integer({default: 1048576, description: 'approximate mode: blocks tracked before pruning'}),
    'router-prune-target-ratio': Flags.string({default: '0.8', description: 'approximate mode: prune down to this share of the max'}),
    'router-queue-threshold': Flags.string({default: '4', description: 'kv: park requests while every worker has more pending prefill than this × max_num_batched_tokens (0 = off)'}),
    discovery: Flags.string({options: ['file', 'etcd'], default: 'file', description: 'discovery backend'}),
    'discovery-dir': Flags.string({description: 'file discovery store (default: the default deployment run directory)'}),
    'busy-max-inflight': Flags.integer({default: 0, env: 'DYN_ROUTER_BUSY_MAX_INFLIGHT', description: 'requests in flight that make a worker busy (0 = off)'}),
    'busy-kv-usage': Flags.string({default: '1', env: 'DYN_ROUTER_BUSY_KV_USAGE', description: 'KV usage (0-1) that makes a worker busy (1 = off)'}),
    'body-limit-mb': Flags.integer({default: 45, description: 'largest request body'}),
    'drain-ms': Flags.integer({default: 3000, description: 'on stop, time to let in-flight requests finish'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Frontend);
    await runFrontend({
      host: flags.host,
      port: flags.port,
      model: resolveModel(flags.model),
      servedModelName: flags['served-model-name'] ?? flags.model,
      apiKey: flags['api-key'],
      router: {
        mode: flags['router-mode'],
        blockSize: flags['router-block-size'],
        overlapWeight: Number(flags['router-kv-overlap-score-weight']),
        temperature: Number(flags['router-temperature']),
        kvEvents: flags['router-kv-events'],
        queueThreshold: Number(flags['router-queue-threshold']),
        ttlSecs: Number(flags['router-ttl-secs']),
        maxTreeSize: flags['router-max-tree-size'],
        pruneTargetRatio: Number(flags['router-prune-target-ratio']),
      },
      discoveryDir: flags['discovery-dir'] ?? `${runDirOf(dynamoHome(), 'default')}/discovery`,
      busyMaxInflight: flags['busy-max-inflight'],
      busyKvUsage: Number(flags['busy-kv-usage']),
      bodyLimitBytes: flags['body-limit-mb'] * 1024 * 1024,
      drainMs: flags['drain-ms'],
    });
  }
}
