/**
 * Flags that set config keys, shared by every command that loads a deployment config.
 * Each maps to one key path (the table below); DYN_* env twins are applied by the loader, so
 * provenance can say "env" or "flag" exactly.
 */
import {Flags} from '@oclif/core';
import type {FlagValue} from '../../config/load.js';
import {ENGINES, LOG_LEVELS, ROUTER_MODES} from '../../config/schema.js';

const group = 'CONFIG';

/** A decimal number flag; the config schema checks its range. */
const number = Flags.custom<number>({
  parse: async (input) => {
    const n = Number(input);
    if (input.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number, got "${input}"`);
    return n;
  },
});

export const configFlags = {
  config: Flags.string({char: 'c', description: 'config file (default: dynamo.config.yaml or .dynamorc* here); env DYN_CONFIG', helpGroup: group}),
  name: Flags.string({char: 'n', description: 'deployment name (several can run side by side)', helpGroup: group}),
  model: Flags.string({char: 'm', description: 'model alias (see `dynamo models`) or local model directory', helpGroup: group}),
  engine: Flags.string({description: 'engine the workers run', options: [...ENGINES], helpGroup: group}),
  disagg: Flags.boolean({description: 'disaggregated prefill/decode workers', allowNo: true, helpGroup: group}),
  workers: Flags.integer({description: 'number of aggregated workers', min: 0, helpGroup: group}),
  'prefill-workers': Flags.integer({description: 'number of prefill workers (with --disagg)', min: 0, helpGroup: group}),
  'decode-workers': Flags.integer({description: 'number of decode workers (with --disagg)', min: 0, helpGroup: group}),
  host: Flags.string({description: 'address the frontend listens on', helpGroup: group}),
  port: Flags.integer({char: 'p', description: 'port the frontend listens on', helpGroup: group}),
  'api-key': Flags.string({description: 'require this bearer token on API requests', helpGroup: group}),
  'router-mode': Flags.string({description: 'how the router picks a worker', options: [...ROUTER_MODES], helpGroup: group}),
  'router-block-size': Flags.integer({description: 'KV block size the router hashes in', min: 1, helpGroup: group}),
  'router-kv-overlap-score-weight': number({description: 'kv routing: weight of prefill blocks against decode blocks (default 1)', helpGroup: group}),
  'router-temperature': number({description: 'kv routing: softmax temperature over worker costs (default 0 = argmin)', helpGroup: group}),
  'router-kv-events': Flags.boolean({description: 'kv routing: learn caches from KV events (--no-router-kv-events: approximate mode)', allowNo: true, helpGroup: group}),
  'router-ttl-secs': number({description: 'approximate mode: how long a routed prefix counts as cached (default 120)', helpGroup: group}),
  'router-max-tree-size': Flags.integer({description: 'approximate mode: blocks tracked before pruning (default 1048576)', min: 1, helpGroup: group}),
  'router-prune-target-ratio': number({description: 'approximate mode: prune down to this share of the max (default 0.8)', helpGroup: group}),
  'router-queue-threshold': number({description: 'kv routing: queue while every worker has more pending prefill than this × max_num_batched_tokens (default 4, 0 = off)', helpGroup: group}),
  'log-level': Flags.string({description: 'log level of every process', options: [...LOG_LEVELS], helpGroup: group}),
};

const PATHS: Record<Exclude<keyof typeof configFlags, 'config'>, string[]> = {
  name: ['name'],
  model: ['model'],
  engine: ['engine'],
  disagg: ['disagg'],
  workers: ['workers', 'agg', 'count'],
  'prefill-workers': ['workers', 'prefill', 'count'],
  'decode-workers': ['workers', 'decode', 'count'],
  host: ['frontend', 'host'],
  port: ['frontend', 'port'],
  'api-key': ['frontend', 'apiKey'],
  'router-mode': ['router', 'mode'],
  'router-block-size': ['router', 'blockSize'],
  'router-kv-overlap-score-weight': ['router', 'overlapWeight'],
  'router-temperature': ['router', 'temperature'],
  'router-kv-events': ['router', 'kvEvents'],
  'router-ttl-secs': ['router', 'ttlSecs'],
  'router-max-tree-size': ['router', 'maxTreeSize'],
  'router-prune-target-ratio': ['router', 'pruneTargetRatio'],
  'router-queue-threshold': ['router', 'queueThreshold'],
  'log-level': ['logLevel'],
};

/** The config-setting flags the user actually passed, with their key paths. */
export function configFlagValues(flags: Record<string, unknown>): FlagValue[] {
  return Object.entries(PATHS)
    .filter(([flag]) => flags[flag] !== undefined)
    .map(([flag, path]) => ({flag: `--${flag}`, path, value: flags[flag]}));
}
