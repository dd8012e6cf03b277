/**
 * Flags that set config keys, shared by every command that loads a deployment config.
 * Each maps to one key path (the table below); DYN_* env twins are applied by the loader, so
 * provenance can say "env" or "flag" exactly.
 */
import {Flags} from '@oclif/core';
import {configDefault, configDescription} from '../../config/defaults.js';
import type {FlagValue} from '../../config/load.js';
import {ADMISSION_CONTROLS, DISCOVERY_BACKENDS, ENGINES, EVENT_PLANES, LOG_LEVELS, ROUTER_MODES, TRANSFER_BACKENDS, WORKER_ROLES} from '../../config/schema.js';
import {keyNumberFlag} from './config-numbers.js';

const group = 'CONFIG';

/** A flag whose value is a comma-separated list (config keys holding arrays). */
const commaList = Flags.custom<string[]>({parse: async (input) => input.split(',').map((s) => s.trim()).filter(Boolean)});

/** A key's meaning from the schema, with its default (these flags have none of their own: unset = the lower layers). */
const about = (path: string[], value: unknown) => `${configDescription(path)} (default ${value})`;
/** A number flag for a key with a default: the schema's meaning, default (in words) and range. */
const keyNumber = (key: string[]) => keyNumberFlag({key, description: about(key, configDefault(key)), helpGroup: group});

export const configFlags = {
  config: Flags.string({char: 'c', description: 'config file (default: dynamo.config.yaml or .dynamorc* here; - reads it from stdin); env DYN_CONFIG', helpGroup: group}),
  name: Flags.string({char: 'n', description: 'deployment name (several can run side by side)', helpGroup: group}),
  model: Flags.string({char: 'm', description: 'model alias (see `dynamo models`) or local model directory', helpGroup: group}),
  engine: Flags.string({description: configDescription(['engine']), options: [...ENGINES], helpGroup: group}),
  disagg: Flags.boolean({description: 'disaggregated prefill/decode workers', allowNo: true, helpGroup: group}),
  workers: keyNumberFlag({key: ['workers', 'agg', 'count'], description: 'number of aggregated workers', helpGroup: group}),
  'prefill-workers': keyNumberFlag({key: ['workers', 'prefill', 'count'], description: 'number of prefill workers (with --disagg)', helpGroup: group}),
  'decode-workers': keyNumberFlag({key: ['workers', 'decode', 'count'], description: 'number of decode workers (with --disagg)', helpGroup: group}),
  'tensor-parallel-size': keyNumberFlag({
    key: ['workers', 'agg', 'tensorParallelSize'],
    aliases: ['tp'],
    description: 'GPUs each worker spans, for every role (workers.<role>.tensorParallelSize); unset = the fewest that hold the weights',
    helpGroup: group,
  }),
  host: Flags.string({description: 'address the frontend listens on', helpGroup: group}),
  port: keyNumberFlag({key: ['frontend', 'port'], char: 'p', description: 'port the frontend listens on', helpGroup: group}),
  'api-key': Flags.string({description: 'require this bearer token on API requests', helpGroup: group}),
  'tls-cert': Flags.string({description: configDescription(['frontend', 'tlsCert']), dependsOn: ['tls-key'], helpGroup: group}),
  'tls-key': Flags.string({description: configDescription(['frontend', 'tlsKey']), dependsOn: ['tls-cert'], helpGroup: group}),
  'migration-limit': keyNumber(['frontend', 'migrationLimit']),
  'migration-max-seq-len': keyNumberFlag({key: ['frontend', 'migrationMaxSeqLen'], description: configDescription(['frontend', 'migrationMaxSeqLen']), helpGroup: group}),
  'admission-control': Flags.string({description: configDescription(['frontend', 'admissionControl']), options: [...ADMISSION_CONTROLS], helpGroup: group}),
  'router-mode': Flags.string({description: 'how the router picks a worker', options: [...ROUTER_MODES], helpGroup: group}),
  'router-block-size': keyNumberFlag({key: ['router', 'blockSize'], description: 'KV block size the router hashes in', helpGroup: group}),
  'router-kv-overlap-score-weight': keyNumber(['router', 'overlapWeight']),
  'router-temperature': keyNumber(['router', 'temperature']),
  'router-kv-events': Flags.boolean({description: 'kv routing: learn caches from KV events (--no-router-kv-events: approximate mode)', allowNo: true, helpGroup: group}),
  'router-ttl-secs': keyNumber(['router', 'ttlSecs']),
  'router-max-tree-size': keyNumber(['router', 'maxTreeSize']),
  'router-prune-target-ratio': keyNumber(['router', 'pruneTargetRatio']),
  'router-queue-threshold': keyNumber(['router', 'queueThreshold']),
  'max-local-prefill-length': keyNumber(['disaggregation', 'maxLocalPrefillLength']),
  'max-prefill-queue-size': keyNumber(['disaggregation', 'maxPrefillQueueSize']),
  'kv-transfer-backend': Flags.string({description: configDescription(['disaggregation', 'transferBackend']), options: [...TRANSFER_BACKENDS], helpGroup: group}),
  'log-level': Flags.string({description: 'log level of every process', options: [...LOG_LEVELS], helpGroup: group}),
  hosts: commaList({description: 'hosts every worker role is placed on, round-robin, comma-separated ("local" or names under `hosts:`)', helpGroup: group}),
  discovery: Flags.string({description: configDescription(['discovery', 'backend']), options: [...DISCOVERY_BACKENDS], helpGroup: group}),
  'etcd-endpoints': commaList({description: `${configDescription(['discovery', 'etcdEndpoints'])}; comma-separated`, helpGroup: group}),
  'event-plane': Flags.string({description: configDescription(['eventPlane', 'backend']), options: [...EVENT_PLANES], helpGroup: group}),
  'nats-url': Flags.string({description: configDescription(['eventPlane', 'natsUrl']), helpGroup: group}),
};

/** Each flag's key path; a flag that sets the same key of every worker role lists them all. */
const PATHS: Record<Exclude<keyof typeof configFlags, 'config'>, string[] | string[][]> = {
  name: ['name'],
  model: ['model'],
  engine: ['engine'],
  disagg: ['disagg'],
  workers: ['workers', 'agg', 'count'],
  'prefill-workers': ['workers', 'prefill', 'count'],
  'decode-workers': ['workers', 'decode', 'count'],
  'tensor-parallel-size': WORKER_ROLES.map((role) => ['workers', role, 'tensorParallelSize']),
  host: ['frontend', 'host'],
  port: ['frontend', 'port'],
  'api-key': ['frontend', 'apiKey'],
  'tls-cert': ['frontend', 'tlsCert'],
  'tls-key': ['frontend', 'tlsKey'],
  'migration-limit': ['frontend', 'migrationLimit'],
  'migration-max-seq-len': ['frontend', 'migrationMaxSeqLen'],
  'admission-control': ['frontend', 'admissionControl'],
  'router-mode': ['router', 'mode'],
  'router-block-size': ['router', 'blockSize'],
  'router-kv-overlap-score-weight': ['router', 'overlapWeight'],
  'router-temperature': ['router', 'temperature'],
  'router-kv-events': ['router', 'kvEvents'],
  'router-ttl-secs': ['router', 'ttlSecs'],
  'router-max-tree-size': ['router', 'maxTreeSize'],
  'router-prune-target-ratio': ['router', 'pruneTargetRatio'],
  'router-queue-threshold': ['router', 'queueThreshold'],
  'max-local-prefill-length': ['disaggregation', 'maxLocalPrefillLength'],
  'max-prefill-queue-size': ['disaggregation', 'maxPrefillQueueSize'],
  'kv-transfer-backend': ['disaggregation', 'transferBackend'],
  'log-level': ['logLevel'],
  hosts: WORKER_ROLES.map((role) => ['workers', role, 'hosts']),
  discovery: ['discovery', 'backend'],
  'etcd-endpoints': ['discovery', 'etcdEndpoints'],
  'event-plane': ['eventPlane', 'backend'],
  'nats-url': ['eventPlane', 'natsUrl'],
};

/** The config-setting flags the user actually passed, with their key paths. */
export function configFlagValues(flags: Record<string, unknown>): FlagValue[] {
  return Object.entries(PATHS)
    .filter(([flag]) => flags[flag] !== undefined)
    .flatMap(([flag, p]) => (Array.isArray(p[0]) ? (p as string[][]) : [p as string[]]).map((path) => ({flag: `--${flag}`, path, value: flags[flag]})));
}
