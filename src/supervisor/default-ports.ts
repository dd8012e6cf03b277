/**
 * Ports a deployment leaves at their defaults move past ports already in use on this machine, so a
 * second deployment (`dynamo up --name demo2`) starts with no port flags. A port the user set (in
 * a file, a DYN_* variable or a flag) is never moved: `up` checks it and says what holds it.
 *
 * Each range (the frontend's port; two per worker from workers.basePort; the engines' HTTP, KV
 * event and side-channel ranges; the etcd and NATS up runs) moves up to the first place where all of its
 * ports are free and none is taken by another range. The frontend and the services run here; the
 * worker and engine ranges must be free on every host workers are placed on (an SSH host's
 * listening ports are read over SSH: host-ports.ts).
 */
import {createServer} from 'node:net';
import type {LoadedConfig} from '../config/load.js';
import {runsInWorker} from '../config/engines.js';
import type {DynamoConfig} from '../config/schema.js';

/** Whether `port` can be bound on `host` now. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({port, host, exclusive: true}, () => s.close(() => resolve(true)));
  });
}

interface Range {
  /** Dotted config path of the range's first port. */
  key: string;
  count: number;
  /** Where its ports are bound: 'local' or SSH host names. */
  hosts: readonly string[];
  get(c: DynamoConfig): number;
  set(c: DynamoConfig, port: number): void;
}

/** Whether `port` is free on host `hostName` ('local' is this machine). */
export type PortCheck = (port: number, hostName: string) => Promise<boolean>;

const localOnly: PortCheck = (port) => portFree(port);

function rangesOf(c: DynamoConfig): Range[] {
  const roles = c.disagg ? (['prefill', 'decode'] as const) : (['agg'] as const);
  const workers = roles.reduce((n, r) => n + c.workers[r].count, 0);
  const ranks = roles.reduce((n, r) => n + c.workers[r].count * c.workers[r].dataParallelSize, 0);
  const here = ['local'];
  const workerHosts = [...new Set(roles.flatMap((r) => c.workers[r].hosts.slice(0, c.workers[r].count)))];
  const out: Range[] = [
    {key: 'frontend.port', count: 1, hosts: here, get: (x) => x.frontend.port, set: (x, p) => (x.frontend.port = p)},
    {key: 'workers.basePort', count: 2 * workers, hosts: workerHosts, get: (x) => x.workers.basePort, set: (x, p) => (x.workers.basePort = p)},
  ];
  if (!runsInWorker(c.engine)) {
    const eo = (x: DynamoConfig) => x.engineOptions;
    out.push(
      {key: 'engineOptions.basePort', count: workers, hosts: workerHosts, get: (x) => eo(x).basePort, set: (x, p) => (eo(x).basePort = p)},
      {key: 'engineOptions.kvEventsBasePort', count: 2 * ranks, hosts: workerHosts, get: (x) => eo(x).kvEventsBasePort, set: (x, p) => (eo(x).kvEventsBasePort = p)},
      {key: 'engineOptions.transferBasePort', count: ranks, hosts: workerHosts, get: (x) => eo(x).transferBasePort, set: (x, p) => (eo(x).transferBasePort = p)},
    );
  }
  if (c.discovery.backend === 'etcd' && !c.discovery.etcdEndpoints) out.push({key: 'discovery.etcdPort', count: 2, hosts: here, get: (x) => x.discovery.etcdPort, set: (x, p) => (x.discovery.etcdPort = p)});
  if (c.eventPlane.backend === 'nats' && !c.eventPlane.natsUrl) out.push({key: 'eventPlane.natsPort', count: 2, hosts: here, get: (x) => x.eventPlane.natsPort, set: (x, p) => (x.eventPlane.natsPort = p)});
  return out;
}

export async function withFreeDefaultPorts(loaded: LoadedConfig, isFree: PortCheck = localOnly): Promise<DynamoConfig> {
  const config = structuredClone(loaded.config);
  const ranges = rangesOf(config);
  const claimed = new Set<number>();
  // Ranges the user fixed are claimed first, as they are.
  for (const r of ranges.filter((x) => loaded.sources.has(x.key))) for (let i = 0; i < r.count; i++) claimed.add(r.get(config) + i);
  for (const r of ranges.filter((x) => !loaded.sources.has(x.key))) {
    let base = r.get(config);
    for (;;) {
      if (base + r.count - 1 > 65535) break; // nothing free above: leave it, up's check reports it
      const ports = Array.from({length: r.count}, (_, i) => base + i);
      const clash = ports.find((p) => claimed.has(p));
      if (clash === undefined) {
        const free = await Promise.all(ports.map(async (p) => (await Promise.all(r.hosts.map((h) => isFree(p, h)))).every(Boolean)));
        const busy = free.indexOf(false);
        if (busy < 0) break;
        base = ports[busy]! + 1;
      } else base = clash + 1;
    }
    r.set(config, base);
    for (let i = 0; i < r.count; i++) claimed.add(base + i);
  }
  return config;
}
