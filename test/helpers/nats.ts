/**
 * A real NATS server (Debian's nats-server, installed by scripts/setup.sh) on 127.0.0.1 for tests,
 * started with the command line `dynamo up` uses (src/supervisor/services.ts); it can be stopped
 * and started again on the same port, as an outage would.
 */
import {existsSync} from 'node:fs';
import {NATS_HEALTH_PATH, natsArgv} from '../../src/supervisor/services.js';
import {freePort, restartableServer} from './processes.js';

export function requireNats(): void {
  if (!existsSync('/usr/sbin/nats-server')) throw new Error('/usr/sbin/nats-server is missing: run npm run setup (installs nats-server)');
}

export interface TestNats {
  url: string;
  /** Its monitoring endpoint (`/connz`, `/healthz`), e.g. to wait for clients to reconnect. */
  monitorUrl: string;
  /** Kills it (an outage). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startNats(): Promise<TestNats> {
  const spec = {name: 'test', host: '127.0.0.1', clientPort: await freePort(), monitorPort: await freePort()};
  const healthy = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${spec.monitorPort}${NATS_HEALTH_PATH}`, {signal: AbortSignal.timeout(500)})).ok;
    } catch {
      return false;
    }
  };
  const {start, stop} = restartableServer('nats-server', natsArgv(spec), healthy);
  await start();
  return {url: `nats://127.0.0.1:${spec.clientPort}`, monitorUrl: `http://127.0.0.1:${spec.monitorPort}`, stop: () => stop(), start};
}
