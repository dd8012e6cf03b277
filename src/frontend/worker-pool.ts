/**
 * The frontend's view of the workers serving its model: follows discovery, keeps one request-plane
 * connection per worker, counts in-flight requests, and learns each worker's KV usage: from the
 * loads workers publish on the NATS event plane when there is one, else by polling their health.
 * A worker whose connection drops leaves the pool at once (discovery catches the rest within its
 * lease TTL). A worker that leaves discovery takes no new request, but its connection stays open
 * until the requests it is finishing are done: a draining worker leaves discovery first.
 */
import type {WorkerRole} from '../config/schema.js';
import type {DiscoveryStore, WorkerRecord} from '../runtime/discovery/types.js';
import {WorkerConnection} from '../runtime/request-plane/client.js';
import type {WorkerSnapshot} from '../router/policy.js';

interface PooledWorker {
  record: WorkerRecord;
  conn: WorkerConnection;
  inFlight: number;
  kvUsage: number;
  down: boolean;
  /** Gone from discovery with requests still in flight: close the connection after the last one. */
  leaving?: boolean;
}

export interface PoolMembership {
  joined(id: string, conn: WorkerConnection): void;
  left(id: string): void;
}

/** Workers' loads as they are published (the NATS event plane's subscriber). */
export interface LoadSource {
  onLoad(listener: (load: {worker: string; kvUsage: number}) => void): void;
}

export class WorkerPool {
  private readonly workers = new Map<string, PooledWorker>();
  private readonly members: PoolMembership[] = [];
  private unwatch?: () => void;
  private healthTimer?: NodeJS.Timeout;
  private firstViewSeen!: () => void;
  /** Resolves once discovery has given its first view (at once for the file store; a round trip for etcd). */
  readonly firstView = new Promise<void>((r) => (this.firstViewSeen = r));

  constructor(
    private readonly store: DiscoveryStore,
    private readonly model: string,
    private readonly opts: {healthPollMs?: number; loads?: LoadSource; token?: string} = {},
  ) {}

  /** Hears workers join and leave (register before start() to hear the first ones). */
  onMembership(m: PoolMembership): void {
    this.members.push(m);
  }

  start(): void {
    this.unwatch = this.store.watch((records) => {
      this.sync(records);
      this.firstViewSeen();
    });
    if (this.opts.loads) {
      this.opts.loads.onLoad(({worker, kvUsage}) => {
        const w = this.workers.get(worker);
        if (w) w.kvUsage = kvUsage;
      });
      return;
    }
    this.healthTimer = setInterval(() => void this.pollHealth(), this.opts.healthPollMs ?? 500);
    this.healthTimer.unref();
  }

  stop(): void {
    this.unwatch?.();
    clearInterval(this.healthTimer);
    for (const w of this.workers.values()) w.conn.close();
    this.workers.clear();
  }

  private sync(records: WorkerRecord[]): void {
    const live = new Map(records.filter((r) => r.model === this.model).map((r) => [r.id, r]));
    for (const [id, w] of this.workers) {
      const r = live.get(id);
      if (!r || r.startedAt !== w.record.startedAt) {
        this.workers.delete(id);
        for (const m of this.members) m.left(id);
        if (w.inFlight === 0) w.conn.close();
        else w.leaving = true; // closed by call() when its last request ends
      }
    }
    for (const [id, record] of live) {
      if (this.workers.has(id)) continue;
      const conn = new WorkerConnection(record.host, record.rpcPort, {token: this.opts.token});
      const w: PooledWorker = {record, conn, inFlight: 0, kvUsage: 0, down: false};
      conn.onClose(() => (w.down = true));
      this.workers.set(id, w);
      for (const m of this.members) m.joined(id, conn);
    }
  }

  private async pollHealth(): Promise<void> {
    await Promise.all(
      [...this.workers.values()].map(async (w) => {
        try {
          const r = await fetch(`http://${w.record.host}:${w.record.metricsPort}/health`, {signal: AbortSignal.timeout(400)});
          const j = (await r.json()) as {kv_usage?: number};
          if (typeof j.kv_usage === 'number') w.kvUsage = j.kv_usage;
        } catch {
          // Unreachable: the connection drop or the lease expiry removes it.
        }
      }),
    );
  }

  /** Workers of these roles that can take a request now, for routing (prefill workers: disagg.ts). */
  snapshot(roles: readonly WorkerRole[] = ['agg', 'decode']): WorkerSnapshot[] {
    return [...this.workers.values()]
      .filter((w) => !w.down && roles.includes(w.record.role))
      .map((w) => ({id: w.record.id, inFlight: w.inFlight, kvUsage: w.kvUsage, maxNumBatchedTokens: w.record.runtime?.maxNumBatchedTokens}));
  }

  records(): WorkerRecord[] {
    return [...this.workers.values()].filter((w) => !w.down).map((w) => w.record);
  }

  get size(): number {
    return this.snapshot().length;
  }

  /** Streams a request on a worker, keeping its in-flight count. */
  async *call(id: string, body: unknown, signal?: AbortSignal): AsyncGenerator<unknown> {
    for await (const batch of this.callBatches(id, body, signal)) yield* batch;
  }

  /** As `call`, in batches of what arrived together (WorkerConnection.callBatches). */
  async *callBatches(id: string, body: unknown, signal?: AbortSignal): AsyncGenerator<unknown[]> {
    const w = this.workers.get(id);
    if (!w) throw Object.assign(new Error(`worker ${id} left`), {kind: 'worker_gone'});
    w.inFlight++;
    try {
      yield* w.conn.callBatches(body, signal);
    } finally {
      w.inFlight--;
      if (w.leaving && w.inFlight === 0) w.conn.close();
    }
  }
}
