import {Command, Flags} from '@oclif/core';
import {deploymentToken, discoveryFlags, discoveryTarget} from './flags/discovery-flags.js';
import {eventPlaneFlags, natsEventsTarget} from './flags/event-plane-flags.js';
import {configDefaults, configDescription as doc} from '../config/defaults.js';
import {resolveModel} from '../config/models.js';
import {ADMISSION_CONTROLS, OVERLOAD_STATUS_CODES, ROUTER_MODES} from '../config/schema.js';
import {configNumberFlag, optionalConfigNumberFlag} from './flags/config-numbers.js';

// Defaults and meanings come from the config schema: `dynamo up` passes the config's values, and
// a frontend started by hand behaves like one started with an empty config.
const D = configDefaults();

export default class Frontend extends Command {
  static override summary = 'Run the OpenAI-compatible HTTP frontend (started by `dynamo up`; runnable by hand).';
  static override examples = ['<%= config.bin %> frontend --model qwen3-0.6b --port 8000', 'DYN_FRONTEND_API_KEY=secret <%= config.bin %> frontend --model deepseek-r1'];
  static override flags = {
    host: Flags.string({default: D.frontend.host, env: 'DYN_FRONTEND_HOST', description: doc(['frontend', 'host'])}),
    port: configNumberFlag(['frontend', 'port'], {env: 'DYN_FRONTEND_PORT', description: 'port to listen on'}),
    model: Flags.string({char: 'm', required: true, env: 'DYN_MODEL', description: 'model alias or local model directory'}),
    'served-model-name': Flags.string({description: 'name clients use in `model` (default: the --model value)'}),
    'api-key': Flags.string({env: 'DYN_FRONTEND_API_KEY', description: 'require `Authorization: Bearer <key>`'}),
    'tls-cert': Flags.string({env: 'DYN_FRONTEND_TLS_CERT', dependsOn: ['tls-key'], description: doc(['frontend', 'tlsCert'])}),
    'tls-key': Flags.string({env: 'DYN_FRONTEND_TLS_KEY', dependsOn: ['tls-cert'], description: doc(['frontend', 'tlsKey'])}),
    'router-mode': Flags.string({options: [...ROUTER_MODES], default: D.router.mode, env: 'DYN_ROUTER_MODE', description: doc(['router', 'mode'])}),
    'router-block-size': configNumberFlag(['router', 'blockSize']),
    'router-kv-overlap-score-weight': configNumberFlag(['router', 'overlapWeight']),
    'router-temperature': configNumberFlag(['router', 'temperature']),
    'router-kv-events': Flags.boolean({default: D.router.kvEvents, allowNo: true, description: doc(['router', 'kvEvents'])}),
    'router-ttl-secs': configNumberFlag(['router', 'ttlSecs']),
    'router-max-tree-size': configNumberFlag(['router', 'maxTreeSize']),
    'router-prune-target-ratio': configNumberFlag(['router', 'pruneTargetRatio']),
    'router-queue-threshold': configNumberFlag(['router', 'queueThreshold']),
    ...discoveryFlags,
    ...eventPlaneFlags,
    'busy-max-inflight': configNumberFlag(['router', 'busyMaxInflight'], {env: 'DYN_ROUTER_BUSY_MAX_INFLIGHT'}),
    'busy-kv-usage': configNumberFlag(['router', 'busyKvUsage'], {env: 'DYN_ROUTER_BUSY_KV_USAGE'}),
    'body-limit-mb': configNumberFlag(['frontend', 'bodyLimitMb']),
    disagg: Flags.boolean({description: 'the deployment has prefill workers: prefill there when it pays (conditional disaggregation)'}),
    'max-local-prefill-length': configNumberFlag(['disaggregation', 'maxLocalPrefillLength']),
    'max-prefill-queue-size': configNumberFlag(['disaggregation', 'maxPrefillQueueSize']),
    'migration-limit': configNumberFlag(['frontend', 'migrationLimit'], {env: 'DYN_MIGRATION_LIMIT'}),
    'migration-max-seq-len': optionalConfigNumberFlag(['frontend', 'migrationMaxSeqLen'], {env: 'DYN_MIGRATION_MAX_SEQ_LEN'}),
    'admission-control': Flags.string({options: [...ADMISSION_CONTROLS], default: D.frontend.admissionControl, env: 'DYN_ADMISSION_CONTROL', description: doc(['frontend', 'admissionControl'])}),
    'overload-status-code': Flags.string({options: OVERLOAD_STATUS_CODES.map(String), default: String(D.frontend.overloadStatusCode), env: 'DYN_HTTP_OVERLOAD_STATUS_CODE', description: doc(['frontend', 'overloadStatusCode'])}),
    'pre-touch-mb': configNumberFlag(['frontend', 'preTouchMb'], {env: 'DYN_FRONTEND_PRE_TOUCH_MB'}),
    'drain-ms': Flags.integer({default: 3000, description: 'on stop, time to let in-flight requests finish'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Frontend);
    const {runFrontend} = await import('../frontend/server.js');
    await runFrontend({
      host: flags.host,
      port: flags.port,
      model: resolveModel(flags.model),
      servedModelName: flags['served-model-name'] ?? flags.model,
      apiKey: flags['api-key'],
      tls: flags['tls-cert'] && flags['tls-key'] ? {cert: flags['tls-cert'], key: flags['tls-key']} : undefined,
      router: {
        mode: flags['router-mode'],
        blockSize: flags['router-block-size'],
        overlapWeight: flags['router-kv-overlap-score-weight'],
        temperature: flags['router-temperature'],
        kvEvents: flags['router-kv-events'],
        queueThreshold: flags['router-queue-threshold'],
        ttlSecs: flags['router-ttl-secs'],
        maxTreeSize: flags['router-max-tree-size'],
        pruneTargetRatio: flags['router-prune-target-ratio'],
      },
      discovery: discoveryTarget(flags),
      requestPlaneToken: deploymentToken(flags),
      natsEvents: natsEventsTarget(flags),
      busyMaxInflight: flags['busy-max-inflight'],
      busyKvUsage: flags['busy-kv-usage'],
      bodyLimitBytes: flags['body-limit-mb'] * 1024 * 1024,
      disagg: flags.disagg ? {maxLocalPrefillLength: flags['max-local-prefill-length'], maxPrefillQueueSize: flags['max-prefill-queue-size']} : undefined,
      drainMs: flags['drain-ms'],
      migration: {limit: flags['migration-limit'], maxSeqLen: flags['migration-max-seq-len']},
      admissionControl: flags['admission-control'] as 'none' | 'token-capacity',
      overloadStatus: Number(flags['overload-status-code']),
      preTouchMb: flags['pre-touch-mb'],
    });
  }
}
