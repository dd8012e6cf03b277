/**
 * The discovery flags `dynamo worker` and `dynamo frontend` share: which store, and where. `dynamo
 * up` sets them from the config's `discovery` section; by hand the defaults find the default
 * deployment's file store.
 */
import {Flags} from '@oclif/core';
import {configDefaults, configDescription as doc} from '../../config/defaults.js';
import {DISCOVERY_BACKENDS} from '../../config/schema.js';
import {configNumberFlag} from './config-numbers.js';
import type {DiscoveryTarget} from '../../runtime/discovery/open.js';
import {dynamoHome, requestPlaneTokenFile, runDirOf} from '../../supervisor/run-dir.js';
import {requestPlaneToken} from '../../runtime/request-plane/token.js';
import {readFileSync} from 'node:fs';
import {UserError} from '../../shared/errors.js';

const D = configDefaults();

export const discoveryFlags = {
  discovery: Flags.string({options: [...DISCOVERY_BACKENDS], default: D.discovery.backend, description: doc(['discovery', 'backend'])}),
  'discovery-dir': Flags.string({description: 'file discovery store (default: the default deployment run directory)'}),
  'etcd-endpoints': Flags.string({description: 'etcd client URLs, comma-separated (--discovery etcd)'}),
  'discovery-lease-ttl': configNumberFlag(['discovery', 'leaseTtlS']),
  deployment: Flags.string({description: 'deployment name: its keys in etcd and its NATS subjects (default: $DYN_RUN_NAME, else "default")'}),
};

/** The deployment a role runs under: --deployment, else $DYN_RUN_NAME (set by `dynamo up`), else "default". */
export const deploymentName = (flags: {deployment?: string}) => flags.deployment ?? process.env.DYN_RUN_NAME ?? 'default';

/**
 * The request-plane token a role uses (runtime/request-plane/token.ts): the one `dynamo up` gave it,
 * else, for a frontend or worker started by hand to join a running deployment on this machine,
 * the one in that deployment's run directory (readable by its user only); else none.
 */
export function deploymentToken(flags: {deployment?: string}): string | undefined {
  const given = requestPlaneToken();
  if (given) return given;
  try {
    return readFileSync(requestPlaneTokenFile(runDirOf(dynamoHome(), deploymentName(flags))), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function discoveryTarget(flags: {discovery: string; 'discovery-dir'?: string; 'etcd-endpoints'?: string; 'discovery-lease-ttl': number; deployment?: string}): DiscoveryTarget {
  if (flags.discovery === 'file') return {backend: 'file', dir: flags['discovery-dir'] ?? `${runDirOf(dynamoHome(), 'default')}/discovery`};
  const endpoints = (flags['etcd-endpoints'] ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (!endpoints.length) throw new UserError('--discovery etcd needs --etcd-endpoints', 'give etcd\'s client URL, e.g. --etcd-endpoints http://10.0.0.10:2379 (dynamo up runs one itself when the config names none)');
  return {backend: 'etcd', endpoints, deployment: deploymentName(flags), leaseTtlS: flags['discovery-lease-ttl']};
}
