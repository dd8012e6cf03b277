/**
 * A real etcd (Debian's etcd-server, installed by scripts/setup.sh) on 127.0.0.1 for tests, started
 * with the command line `dynamo up` uses (src/supervisor/services.ts); it can be stopped and
 * started again on the same ports and data, as an outage would.
 */
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {ETCD_HEALTH_PATH, etcdArgv} from '../../src/supervisor/services.js';
import {freePort, restartableServer, tempDir} from './processes.js';

export function requireEtcd(): void {
  if (!existsSync('/usr/bin/etcd')) throw new Error('/usr/bin/etcd is missing: run npm run setup (installs etcd-server)');
}

export interface TestEtcd {
  endpoint: string;
  /** Stops it (SIGKILL by default: an outage, not a shutdown). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
}

export async function startEtcd(): Promise<TestEtcd> {
  const dir = tempDir('dyn-etcd-');
  const spec = {name: 'test', dataDir: join(dir, 'data'), host: '127.0.0.1', clientPort: await freePort(), peerPort: await freePort()};
  const endpoint = `http://127.0.0.1:${spec.clientPort}`;
  const healthy = async () => {
    try {
      return ((await (await fetch(`${endpoint}${ETCD_HEALTH_PATH}`, {signal: AbortSignal.timeout(500)})).json()) as {health?: string}).health === 'true';
    } catch {
      return false;
    }
  };
  const {start, stop} = restartableServer('etcd', etcdArgv(spec), healthy);
  await start();
  return {endpoint, stop, start};
}
