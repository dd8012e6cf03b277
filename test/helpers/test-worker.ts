/**
 * A worker record for frontend tests: a fake worker served by a request-plane `server` on this
 * host, registered in the file store of `runDir`. No status port unless given (a pool that polled
 * health would learn nothing from it).
 */
import type {AddressInfo, Server} from 'node:net';
import {FileDiscovery} from '../../src/runtime/discovery/file-store.js';
import type {Lease, WorkerRecord} from '../../src/runtime/discovery/types.js';

export function registerTestWorker(runDir: string, server: Server, w: Pick<WorkerRecord, 'id' | 'model' | 'engine' | 'metricsPort' | 'runtime'>): Promise<Lease> {
  return new FileDiscovery(runDir).register({...w, role: 'agg', host: '127.0.0.1', rpcPort: (server.address() as AddressInfo).port, startedAt: Date.now()});
}
