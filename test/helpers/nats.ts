/**
 * A real NATS server (Debian's nats-server, installed by scripts/setup.sh) on 127.0.0.1 for tests,
 * started with the command line `dynamo up` uses (src/supervisor/services.ts); it can be stopped
 * and started again on the same port, as an outage would.
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {NATS_HEALTH_PATH, natsArgv} from '../../src/supervisor/services.js';
import {freePort, until} from './processes.js';

export function requireNats(): void {
  if (!existsSync('/usr/sbin/nats-server')) throw new Error('/usr/sbin/nats-server is missing: run npm run setup (installs nats-server)');
}

export interface TestNats {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startNats(): Promise<TestNats> {
  const spec = {name: 'test', host: '127.0.0.1', clientPort: await freePort(), monitorPort: await freePort()};
  let proc: ChildProcess | undefined;
  const healthy = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${spec.monitorPort}${NATS_HEALTH_PATH}`, {signal: AbortSignal.timeout(500)})).ok;
    } catch {
      return false;
    }
  };
  const start = async () => {
    const [cmd, ...args] = natsArgv(spec);
    let log = '';
    proc = spawn(cmd!, args, {stdio: ['ignore', 'ignore', 'pipe']});
    proc.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
    await until(async () => proc!.exitCode !== null || (await healthy()), 15_000, 'nats-server to serve').catch((e: Error) => {
      throw new Error(`${e.message}\n${log}`);
    });
    if (proc.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
  await start();
  return {url: `nats://127.0.0.1:${spec.clientPort}`, stop, start};
}
