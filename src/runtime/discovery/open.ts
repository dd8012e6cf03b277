/**
 * Where a role's discovery is, as its flags say it (the same for workers and the frontend), and
 * the store for it: the file store in the run directory (one machine, or a shared filesystem), or
 * etcd (any number of hosts).
 */
import {EtcdDiscovery} from './etcd-store.js';
import {FileDiscovery} from './file-store.js';
import type {DiscoveryStore} from './types.js';

export type DiscoveryTarget = {backend: 'file'; dir: string} | {backend: 'etcd'; endpoints: string[]; deployment: string; leaseTtlS: number};

export function openDiscovery(t: DiscoveryTarget, warn?: (msg: string) => void): DiscoveryStore {
  return t.backend === 'file' ? new FileDiscovery(t.dir) : new EtcdDiscovery({endpoints: t.endpoints, deployment: t.deployment, leaseTtlS: t.leaseTtlS, warn});
}
