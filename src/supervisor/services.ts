/**
 * Services a deployment can ask `dynamo up` to run for it, as plain command lines (pure): etcd for
 * discovery across hosts, NATS for the event plane. Debian's packages provide the programs
 * (`etcd-server`, `nats-server`); the supervisor runs them tethered like any process, with their
 * data in the run directory.
 */

export interface EtcdSpec {
  /** Member name (one-member cluster). */
  name: string;
  dataDir: string;
  /** Address clients and the member itself are reached at. */
  host: string;
  clientPort: number;
  peerPort: number;
}

export function etcdArgv(s: EtcdSpec): string[] {
  const client = `http://${s.host}:${s.clientPort}`;
  const peer = `http://${s.host}:${s.peerPort}`;
  return [
    'etcd',
    '--name', s.name,
    '--data-dir', s.dataDir,
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `${s.name}=${peer}`,
    '--initial-cluster-state', 'new',
    // etcd 3.4 takes only default/stderr/stdout here: the supervisor keeps stderr in the log file.
    '--logger', 'zap',
    '--log-outputs', 'stderr',
  ];
}

/** etcd answers `{"health":"true"}` here once it serves. */
export const ETCD_HEALTH_PATH = '/health';

export interface NatsSpec {
  name: string;
  /** Address clients reach it at (its monitoring port listens there too). */
  host: string;
  clientPort: number;
  monitorPort: number;
}

/** Core NATS only: the event plane needs no JetStream (routers resync from workers, not from a stream). */
export function natsArgv(s: NatsSpec): string[] {
  return ['nats-server', '--name', s.name, '--addr', s.host, '--port', String(s.clientPort), '--http_port', String(s.monitorPort)];
}

/** nats-server answers 200 here (its monitoring port) once it serves. */
export const NATS_HEALTH_PATH = '/healthz';
