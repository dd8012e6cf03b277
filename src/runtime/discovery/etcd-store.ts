/**
 * etcd discovery store (the `etcd3` client): each worker's record under
 * `v1/instances/<deployment>/worker/generate/<worker id>` (Dynamo's key layout), attached to a
 * lease the worker keeps alive. A worker that dies stops its keep-alives, etcd expires the lease
 * and deletes the key, and every watcher sees it go.
 *
 * Where Dynamo users got hurt, this store does better:
 * - A lease lost while etcd was away (#3493: every component restarted) is granted again and the
 *   record put again as soon as etcd answers, with nothing restarted; until then it keeps trying.
 * - The lease TTL is configurable (#12312), default 10 s as Dynamo's.
 * - A watcher that lost its stream rebuilds its view from a fresh list when it reconnects, and a
 *   new watcher (a restarted frontend, #4904) starts from a full list, so no live worker is missed.
 */
import {Etcd3, type Lease as EtcdLease, type Watcher} from 'etcd3';
import type {DiscoveryStore, Lease, WorkerRecord} from './types.js';

export const DEFAULT_ETCD_LEASE_TTL_S = 10;
/** How long watch events are gathered before the view changes. */
const COALESCE_MS = 100;
/**
 * A deleted record leaves the view only if it is not put again within this time. After an etcd
 * outage the worker's old lease can expire moments before its new one is granted (the client's
 * circuit breaker holds calls for up to 5 s); a worker that really died is seen at once by its
 * dropped connection, and one that stopped cleanly has closed its ports.
 */
const DELETE_GRACE_MS = 6000;

export interface EtcdDiscoveryOptions {
  endpoints: readonly string[];
  /** The deployment's name: its keys live under their own prefix. */
  deployment: string;
  leaseTtlS?: number;
  /** Lease lost or etcd unreachable: what happened (once per outage), and when it recovered. */
  warn?: (msg: string) => void;
  /** First retry delay after a failed grant or put; doubles to 5 s. */
  retryMs?: number;
}

const sortById = (records: Iterable<WorkerRecord>) => [...records].sort((a, b) => a.id.localeCompare(b.id));

export class EtcdDiscovery implements DiscoveryStore {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly ttlS: number;
  private closed = false;

  constructor(private readonly opts: EtcdDiscoveryOptions) {
    this.client = new Etcd3({hosts: [...opts.endpoints], dialTimeout: 3000});
    this.prefix = `v1/instances/${opts.deployment}/worker/generate/`;
    this.ttlS = opts.leaseTtlS ?? DEFAULT_ETCD_LEASE_TTL_S;
  }

  keyOf(id: string): string {
    return `${this.prefix}${id}`;
  }

  /** Resolves once the record is in etcd under a live lease; from then on it is kept there until revoked. */
  async register(record: WorkerRecord): Promise<Lease> {
    const key = this.keyOf(record.id);
    const value = JSON.stringify(record);
    let lease: EtcdLease | undefined;
    let revoked = false;
    let retry: NodeJS.Timeout | undefined;
    // One attempt: a lease, and the record under it. Its loss is watched only once it holds the
    // record; a failed attempt is retried by `again`, one chain of retries at a time.
    const grant = async (): Promise<void> => {
      const l = this.client.lease(this.ttlS, {autoKeepAlive: true});
      l.on('lost', () => {}); // a failed grant also ends in 'lost'; the put's rejection reports it
      try {
        await l.put(key).value(value);
      } catch (e) {
        void l.revoke().catch(() => {});
        throw e;
      }
      lease = l;
      l.on('lost', (e: Error) => {
        if (revoked || this.closed || l !== lease) return;
        lease = undefined;
        this.opts.warn?.(`discovery: the etcd lease of ${record.id} was lost (${e.message}); granting a new one when etcd answers`);
        again(this.opts.retryMs ?? 250);
      });
    };
    const again = (delayMs: number) => {
      if (revoked || this.closed) return;
      retry = setTimeout(() => {
        grant().then(
          () => this.opts.warn?.(`discovery: ${record.id} is registered again in etcd`),
          () => again(Math.min(5000, delayMs * 2)),
        );
      }, delayMs);
      retry.unref();
    };
    await grant();
    return {
      revoke: async () => {
        revoked = true;
        clearTimeout(retry);
        // Say so before the key goes: watchers drop a worker that left at once, and give one
        // whose key merely vanished (a lease lost in an outage) time to come back.
        await lease?.put(key).value(JSON.stringify({...record, leaving: true})).catch(() => {});
        await lease?.revoke().catch(() => {});
      },
    };
  }

  async list(): Promise<WorkerRecord[]> {
    return (await this.listAt()).records;
  }

  /** The live records, and the revision they are read at (a watch from the next one misses nothing). */
  private async listAt(): Promise<{records: WorkerRecord[]; revision: bigint}> {
    const res = await this.client.getAll().prefix(this.prefix).exec();
    const records = res.kvs.flatMap((kv) => parse(kv.value.toString()).filter((r) => !r.leaving));
    return {records: sortById(records), revision: BigInt(res.header.revision)};
  }

  watch(onChange: (workers: WorkerRecord[]) => void): () => void {
    const known = new Map<string, WorkerRecord>();
    let stopped = false;
    let watcher: Watcher | undefined;
    let lastKey: string | undefined; // nothing told yet: an empty first view is told too
    const emitNow = () => {
      const workers = sortById(known.values());
      const k = workers.map((w) => `${w.id}@${w.startedAt}`).join(',');
      if (k === lastKey) return;
      lastKey = k;
      onChange(workers);
    };
    // Changes are told after a short quiet time: a watcher that reconnects replays a delete and
    // the put that followed it, and a router must not drop a worker (and its streams) for that.
    let pending: NodeJS.Timeout | undefined;
    const emit = () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        if (!stopped) emitNow();
      }, COALESCE_MS);
    };
    // A full list replaces whatever the view held: the start, and after any gap in the stream.
    let revision = 0n;
    /** True when the view was rebuilt; false when etcd did not answer (the view stands). */
    const rebuild = async (first = false): Promise<boolean> => {
      try {
        const {records: fresh, revision: at} = await this.listAt();
        revision = at;
        const ids = new Set(fresh.map((w) => w.id));
        for (const w of fresh) {
          clearTimeout(leaving.get(w.id));
          leaving.delete(w.id);
          known.set(w.id, w);
        }
        for (const id of known.keys()) if (!ids.has(id)) leave(id);
        // The first view goes out at once: a frontend waits for it before it says it is ready.
        if (first) emitNow();
        else emit();
        return true;
      } catch {
        // etcd is away: the view stands until the watcher reconnects and asks again.
        return false;
      }
    };
    const idOf = (key: string) => key.slice(this.prefix.length);
    const leaving = new Map<string, NodeJS.Timeout>();
    const leave = (id: string) => {
      if (leaving.has(id)) return;
      const t = setTimeout(() => {
        leaving.delete(id);
        known.delete(id);
        emit();
      }, DELETE_GRACE_MS);
      t.unref();
      leaving.set(id, t);
    };
    let started = false;
    const start = async (): Promise<void> => {
      if (!(await rebuild(!started))) throw new Error('etcd did not answer the list');
      started = true;
      if (stopped) return;
      let lost = false;
      // From just after the list: a record put between the list and the watch is not missed.
      const w = await this.client.watch().prefix(this.prefix).startRevision(String(revision + 1n)).create();
      watcher = w;
      if (stopped) return void w.cancel();
      w.on('put', (kv) => {
        for (const r of parse(kv.value.toString())) {
          clearTimeout(leaving.get(r.id));
          leaving.delete(r.id);
          if (r.leaving) known.delete(r.id);
          else known.set(r.id, r);
        }
        emit();
      });
      w.on('delete', (kv) => leave(idOf(kv.key.toString())));
      w.on('disconnected', () => {
        lost = true;
      });
      w.on('connected', () => {
        if (!lost) return;
        lost = false;
        void rebuild();
      });
      w.on('error', () => {});
    };
    // etcd may be away when the watch begins: try until it answers.
    const attempt = () => {
      start().catch(() => {
        if (!stopped) setTimeout(attempt, 1000).unref();
      });
    };
    attempt();
    return () => {
      stopped = true;
      clearTimeout(pending);
      for (const t of leaving.values()) clearTimeout(t);
      void watcher?.cancel().catch(() => {});
    };
  }

  /** Stops talking to etcd: keep-alives end, so this process's records expire with their leases. */
  close(): void {
    this.closed = true;
    this.client.close();
  }
}

/** A record as stored: `leaving` is set by a worker on its way out, just before its key goes. */
function parse(value: string): (WorkerRecord & {leaving?: boolean})[] {
  try {
    const r = JSON.parse(value) as WorkerRecord & {leaving?: boolean};
    return r && typeof r.id === 'string' ? [r] : [];
  } catch {
    return [];
  }
}
