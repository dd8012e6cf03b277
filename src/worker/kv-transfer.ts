/**
 * A worker's side of disaggregated serving (docs/disaggregation.md): its KV blocks backed by real
 * memory in a transfer agent, and the hand-off between a prefill and a decode worker.
 *
 * - Memory: one agent region of `totalBlocks × blockBytes`; a cached block's bytes sit at its slot
 *   (KvBlockManager.slotOf). `blockBytes` is the model's real KV bytes per block times a scale, so
 *   a transfer moves real bytes and takes real time on a small machine too.
 * - Prefill (`PrefillLeases`): when a request's one token is out, the worker holds the prompt's
 *   blocks that are still cached under a lease, writes into each the pattern of its hash (what the
 *   mocker "computed"), and answers with where they are. The blocks are released when the decode
 *   worker says so (a notification after its READ) or when the lease runs out: nothing leaks if the
 *   decode side dies.
 * - Decode (`DecodePuller`): takes blocks for the prompt's leading held blocks, READs the ones it
 *   does not cache from the prefill worker's slots, and checks each against its hash's pattern.
 *   A failed or corrupted transfer drops the blocks it took (never left cached with wrong bytes)
 *   and the request is prefilled locally instead.
 */
import type {TRANSFER_BACKENDS} from '../config/schema.js';
import type {KvBlockManager, SequenceBlocks} from '../engines/mocker/kv-blocks.js';
import type {BlockList} from '../kv/block-list.js';
import {Registry} from '../metrics/prometheus.js';
import {type ByteRange, TransferAgent} from '../native/transfer.js';
import {UserError} from '../shared/errors.js';

export type TransferBackend = (typeof TRANSFER_BACKENDS)[number];

/** What a prefill worker tells the decode worker (inside its last chunk, relayed by the frontend). */
export interface KvTransferParams {
  /** The prefill worker's agent name and metadata (TransferAgent.metadata). */
  peer: string;
  agent: string;
  leaseId: string;
  blockBytes: number;
  /** Slots of the prompt's leading blocks the prefill worker holds, in prompt order. */
  slots: number[];
}

export function isKvTransferParams(v: unknown): v is KvTransferParams {
  const p = v as Partial<KvTransferParams> | null;
  return !!p && typeof p.peer === 'string' && typeof p.agent === 'string' && typeof p.leaseId === 'string' && Number.isInteger(p.blockBytes) && Array.isArray(p.slots) && p.slots.every(Number.isInteger);
}

/** Bytes a mocker block holds: the model's per-token KV bytes × block size × scale, 64-byte aligned, at least 64. */
export function mockerBlockBytes(kvBytesPerToken: number, blockSize: number, scale: number): number {
  return Math.max(64, Math.floor((kvBytesPerToken * blockSize * scale) / 64) * 64);
}

export class KvMemory {
  private constructor(
    readonly agent: TransferAgent,
    private readonly region: number,
    readonly blockBytes: number,
  ) {}

  static create(opts: {name: string; host: string; advertiseHost: string; totalBlocks: number; blockBytes: number; backend: TransferBackend}): KvMemory {
    // UCX (a progress thread that wakes every millisecond) only when asked for: auto uses shm or tcp.
    const agent = TransferAgent.create({name: opts.name, listenHost: opts.host, advertiseHost: opts.advertiseHost, ucx: opts.backend === 'ucx'});
    const noUcx = opts.backend === 'ucx' ? agent.ucxUnavailable : undefined;
    if (noUcx) {
      agent.close();
      throw new UserError(`--kv-transfer-backend ucx, but ${noUcx}`, 'install UCX (apt-get install libucx0) or use --kv-transfer-backend auto');
    }
    // With UCX its own memory (a same-host peer's UCX maps it, no kernel copy); with cuda the GPU's.
    const memory = opts.backend === 'ucx' ? 'ucx' : opts.backend === 'cuda' ? 'cuda' : 'host';
    try {
      return new KvMemory(agent, agent.allocate(opts.totalBlocks * opts.blockBytes, memory), opts.blockBytes);
    } catch (e) {
      agent.close();
      if (memory !== 'cuda') throw e;
      throw new UserError(`--kv-transfer-backend cuda, but ${(e as Error).message}`, 'run on a machine with an NVIDIA GPU and driver, or use --kv-transfer-backend auto');
    }
  }

  range(slot: number): ByteRange {
    return {region: this.region, offset: slot * this.blockBytes, length: this.blockBytes};
  }

  close(): void {
    this.agent.close();
  }
}

/** The transfer metrics of a worker (top reads the first two: src/top/families.ts). */
export function transferMetrics(r: Registry = new Registry()) {
  const m = {
    registry: r,
    tokens: r.counter('dynamo_component_kv_transfer_tokens_total', 'Prompt tokens whose KV blocks this worker pulled from a prefill worker.'),
    pending: r.gauge('dynamo_component_kv_transfer_pending', 'KV transfers in flight.'),
    bytes: r.counter('dynamo_component_kv_transfer_bytes_total', 'Bytes of KV blocks pulled.'),
    transfers: r.counter('dynamo_component_kv_transfers_total', 'KV transfers by result (ok, failed, corrupted, no_room).'),
    seconds: r.histogram('dynamo_component_kv_transfer_seconds', 'Time of one KV transfer.', [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]),
    leases: r.gauge('dynamo_component_kv_leases', 'Requests whose KV blocks a prefill worker holds for a decode worker.'),
    leasesExpired: r.counter('dynamo_component_kv_leases_expired_total', 'Leases that ran out before the decode worker released them.'),
  };
  // The two families top reads are on the page from the start, at 0.
  m.pending.set({}, 0);
  m.tokens.inc({}, 0);
  return m;
}
export type TransferMetrics = ReturnType<typeof transferMetrics>;

const RELEASE = 'release ';

interface Lease {
  seq: SequenceBlocks;
  timer: NodeJS.Timeout;
}

/** The prefill worker's held blocks, by lease. */
export class PrefillLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly memory: KvMemory,
    private readonly blocks: KvBlockManager,
    private readonly leaseMs: number,
    private readonly metrics: TransferMetrics,
    /** How often notifications are read (a decode worker's "release"). */
    pollMs = 5,
  ) {
    this.poll = setInterval(() => this.readNotifications(), pollMs);
    this.poll.unref();
  }

  /**
   * Holds the prompt's leading blocks that are still cached (the request just finished: nothing
   * was evicted in between unless the cache was full) and fills them; undefined when none is.
   */
  hold(leaseId: string, prompt: BlockList): KvTransferParams | undefined {
    const n = this.blocks.cachedPrefix(prompt);
    if (n === 0) return undefined;
    const seq: SequenceBlocks = {held: [], partial: 0};
    if (this.blocks.allocate(seq, prompt, n * this.blocks.blockSize, n) < 0) return undefined;
    const slots = seq.held.slice();
    for (let i = 0; i < slots.length; i++) this.memory.agent.fill(this.memory.range(slots[i]!), prompt.sequence[i]!);
    this.release(leaseId); // a retried request id replaces its old lease
    const timer = setTimeout(() => {
      if (this.release(leaseId)) this.metrics.leasesExpired.inc({});
    }, this.leaseMs);
    timer.unref();
    this.leases.set(leaseId, {seq, timer});
    this.metrics.leases.set({}, this.leases.size);
    return {peer: this.memory.agent.name, agent: this.memory.agent.metadata(), leaseId, blockBytes: this.memory.blockBytes, slots};
  }

  /** Frees a lease's blocks; false when it was not held. */
  release(leaseId: string): boolean {
    const lease = this.leases.get(leaseId);
    if (!lease) return false;
    clearTimeout(lease.timer);
    this.blocks.free(lease.seq);
    this.leases.delete(leaseId);
    this.metrics.leases.set({}, this.leases.size);
    return true;
  }

  get held(): number {
    return this.leases.size;
  }

  readNotifications(): void {
    for (const n of this.memory.agent.notifications()) if (n.message.startsWith(RELEASE)) this.release(n.message.slice(RELEASE.length));
  }

  close(): void {
    clearInterval(this.poll);
    for (const id of [...this.leases.keys()]) this.release(id);
  }
}

export type PullOutcome =
  /** `hold` keeps the pulled blocks cached until the engine has taken them: free it after the first token. */
  | {ok: true; pulledBlocks: number; bytes: number; ms: number; hold: SequenceBlocks}
  | {ok: false; reason: 'failed' | 'corrupted' | 'no_room'; error: string};

/** The decode worker's pulls. */
export class DecodePuller {
  /** Metadata last loaded per peer: loading again would drop its open connection and mappings. */
  private readonly loaded = new Map<string, string>();

  constructor(
    private readonly memory: KvMemory,
    private readonly blocks: KvBlockManager,
    private readonly backend: TransferBackend,
    private readonly metrics: TransferMetrics,
  ) {}

  async pull(params: KvTransferParams, prompt: BlockList): Promise<PullOutcome> {
    const agent = this.memory.agent;
    if (params.blockBytes !== this.memory.blockBytes) {
      this.release(params);
      return this.failed('failed', `the prefill worker's blocks are ${params.blockBytes} bytes, ours ${this.memory.blockBytes}: start both with the same model and --kv-memory-scale`);
    }
    if (this.loaded.get(params.peer) !== params.agent) {
      agent.loadPeer(params.agent);
      this.loaded.set(params.peer, params.agent);
    }
    const wanted = Math.min(params.slots.length, prompt.keys.length);
    // Blocks this worker does not cache yet (their indices): those are read; the others it has already.
    const fresh = Array.from({length: wanted}, (_, i) => i).filter((i) => this.blocks.slotOf(prompt, i) === undefined);
    const hold: SequenceBlocks = {held: [], partial: 0};
    if (this.blocks.allocate(hold, prompt, wanted * this.blocks.blockSize, wanted) < 0) {
      this.release(params);
      return this.failed('no_room', 'no room for the prompt blocks: prefilling locally');
    }
    if (!fresh.length) {
      this.release(params);
      return {ok: true, pulledBlocks: 0, bytes: 0, ms: 0, hold};
    }
    const local = fresh.map((i) => this.memory.range(hold.held[i]!));
    const remote = fresh.map((i) => this.memory.range(params.slots[i]!));
    this.metrics.pending.inc({});
    // GPU blocks move with cuda on one host and through tcp across hosts: the agent picks.
    const backend = this.backend === 'cuda' ? 'auto' : this.backend;
    const r = await agent.read(params.peer, local, remote, {notify: RELEASE + params.leaseId, backend}).finally(() => this.metrics.pending.dec({}));
    const drop = () => {
      this.blocks.free(hold);
      this.blocks.discard(prompt, fresh);
    };
    if (!r.ok) {
      drop();
      this.release(params);
      return this.failed('failed', `KV transfer from ${params.peer} failed (${r.status}): ${r.error}`);
    }
    const bad = fresh.find((i, k) => agent.verify(local[k]!, prompt.sequence[i]!) !== -1);
    if (bad !== undefined) {
      drop();
      return this.failed('corrupted', `KV block ${bad} from ${params.peer} arrived corrupted (its bytes do not match its hash): prefilling locally`);
    }
    this.metrics.transfers.inc({result: 'ok'});
    this.metrics.tokens.inc({}, fresh.length * this.blocks.blockSize);
    this.metrics.bytes.inc({}, r.bytes);
    this.metrics.seconds.observe({}, r.ns / 1e9);
    return {ok: true, pulledBlocks: fresh.length, bytes: r.bytes, ms: r.ns / 1e6, hold};
  }

  /** Tells the prefill worker it may free the lease now; if that fails, the lease runs out instead. */
  private release(params: KvTransferParams): void {
    this.memory.agent.notify(params.peer, RELEASE + params.leaseId).catch(() => {});
  }

  private failed(reason: 'failed' | 'corrupted' | 'no_room', error: string): PullOutcome {
    this.metrics.transfers.inc({result: reason});
    return {ok: false, reason, error};
  }
}
