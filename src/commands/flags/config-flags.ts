/**
 * Flags that set config keys, shared by every command that loads a deployment config.
 * Each maps to one key path (the table below); DYN_* env twins are applied by the loader, so
 * provenance can say "env" or "flag" exactly.
 */
import {Flags} from '@oclif/core';
import {configDefaults, configDescription} from '../../config/defaults.js';
import type {FlagValue} from '../../config/load.js';
import {ADMISSION_CONTROLS, ENGINES, LOG_LEVELS, ROUTER_MODES, TRANSFER_BACKENDS, WORKER_ROLES} from '../../config/schema.js';
import {numberFlag} from './numbers.js';

const group = 'CONFIG';

/** A flag whose value is a comma-separated list (config keys holding arrays). */
const commaList = Flags.custom<string[]>({parse: async (input) => input.split(',').map((s) => s.trim()).filter(Boolean)});

const D = configDefaults();
/** A key's meaning from the schema, with its default (these flags have none of their own: unset = the lower layers). */
const about = (path: string[], value: unknown) => `${configDescription(path)} (default ${value})`;

export const configFlags = {
  config: Flags.string({char: 'c', description: 'config file (default: dynamo.config.yaml or .dynamorc* here; - reads it from stdin); env DYN_CONFIG', helpGroup: group}),
  name: Flags.string({char: 'n', description: 'deployment name (several can run side by side)', helpGroup: group}),
  model: Flags.string({char: 'm', description: 'model alias (see `dynamo models`) or local model directory', helpGroup: group}),
  // Every engine name is an option: the loader says which are not available yet, and what to use.
  engine: Flags.string({description: configDescription(['engine']), options: [...ENGINES], helpGroup: group}),
  disagg: Flags.boolean({description: 'disaggregated prefill/decode workers', allowNo: true, helpGroup: group}),
  workers: Flags.integer({description: 'number of aggregated workers', min: 0, helpGroup: group}),
  'prefill-workers': Flags.integer({description: 'number of prefill workers (with --disagg)', min: 0, helpGroup: group}),
  'decode-workers': Flags.integer({description: 'number of decode workers (with --disagg)', min: 0, helpGroup: group}),
  'tensor-parallel-size': Flags.integer({
    aliases: ['tp'],
    description: 'GPUs each worker spans, for every role (workers.<role>.tensorParallelSize); unset = the fewest that hold the weights',
    min: 1,
    max: 64,
    helpGroup: group,
  }),
  host: Flags.string({description: 'address the frontend listens on', helpGroup: group}),
  port: Flags.integer({char: 'p', description: 'port the frontend listens on', helpGroup: group}),
  'api-key': Flags.string({description: 'require this bearer token on API requests', helpGroup: group}),
  'tls-cert': Flags.string({description: configDescription(['frontend', 'tlsCert']), dependsOn: ['tls-key'], helpGroup: group}),
  'tls-key': Flags.string({description: configDescription(['frontend', 'tlsKey']), dependsOn: ['tls-cert'], helpGroup: group}),
  'migration-limit': Flags.integer({description: about(['frontend', 'migrationLimit'], D.frontend.migrationLimit), min: 0, max: 100, helpGroup: group}),
  'migration-max-seq-len': Flags.integer({description: configDescription(['frontend', 'migrationMaxSeqLen']), min: 1, helpGroup: group}),
  'admission-control': Flags.string({description: configDescription(['frontend', 'admissionControl']), options: [...ADMISSION_CONTROLS], helpGroup: group}),
  'router-mode': Flags.string({description: 'how the router picks a worker', options: [...ROUTER_MODES], helpGroup: group}),
  'router-block-size': Flags.integer({description: 'KV block size the router hashes in', min: 1, helpGroup: group}),
  'router-kv-overlap-score-weight': numberFlag({description: about(['router', 'overlapWeight'], D.router.overlapWeight), helpGroup: group}),
  'router-temperature': numberFlag({description: about(['router', 'temperature'], D.router.temperature), helpGroup: group}),
  'router-kv-events': Flags.boolean({description: 'kv routing: learn caches from KV events (--no-router-kv-events: approximate mode)', allowNo: true, helpGroup: group}),
  'router-ttl-secs': numberFlag({description: about(['router', 'ttlSecs'], D.router.ttlSecs), helpGroup: group}),
  'router-max-tree-size': Flags.integer({description: about(['router', 'maxTreeSize'], D.router.maxTreeSize), min: 1, helpGroup: group}),
  'router-prune-target-ratio': numberFlag({description: about(['router', 'pruneTargetRatio'], D.router.pruneTargetRatio), helpGroup: group}),
  'router-queue-threshold': numberFlag({description: about(['router', 'queueThreshold'], D.router.queueThreshold), helpGroup: group}),
  'max-local-prefill-length': Flags.integer({description: about(['disaggregation', 'maxLocalPrefillLength'], D.disaggregation.maxLocalPrefillLength), min: 0, helpGroup: group}),
  'max-prefill-queue-size': Flags.integer({description: about(['disaggregation', 'maxPrefillQueueSize'], D.disaggregation.maxPrefillQueueSize), min: 0, helpGroup: group}),
  'kv-transfer-backend': Flags.string({description: configDescription(['disaggregation', 'transferBackend']), options: [...TRANSFER_BACKENDS], helpGroup: group}),
  'log-level': Flags.string({description: 'log level of every process', options: [...LOG_LEVELS], helpGroup: group}),
  hosts: commaList({description: 'hosts every worker role is placed on, round-robin, comma-separated ("local" or names under `hosts:`)', helpGroup: group}),
  discovery: Flags.string({description: configDescription(['discovery', 'backend']), options: ['file', 'etcd'], helpGroup: group}),
  'etcd-endpoints': commaList({description: `${configDescription(['discovery', 'etcdEndpoints'])}; comma-separated`, helpGroup: group}),
  'event-plane': Flags.string({description: configDescription(['eventPlane', 'backend']), options: ['tcp', 'nats'], helpGroup: group}),
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
