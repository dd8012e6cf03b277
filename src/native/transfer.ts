/**
 * The KV transfer agent, typed: NIXL's model (one agent per worker; registered memory; metadata
 * that peers load; READ/WRITE of range lists; completion; notifications) over the native agent in
 * src/native/src/transfer.h. Bytes stay in native memory: JavaScript names ranges, never holds them.
 *
 * Backends: `shm` (same host: the peer's memfd regions mapped, one memcpy per range), `tcp` (any
 * host; GPU memory staged through host buffers), `ucx` (UCX's one-sided get/put, libucp opened at
 * run time), `cuda` (GPU memory on one host: CUDA IPC, device-to-device copies), `auto` (GPU
 * memory: cuda on this host, else tcp; host memory: shm when the peer is on this host, else ucx
 * when both sides have it, else tcp). Transfer failures are values
 * (`TransferResult.status`, NIXL's codes), never exceptions; misuse (a closed agent, bad metadata)
 * throws.
 */
import {type NativeAddon, requireNative} from './index.js';

export type TransferBackend = 'auto' | 'shm' | 'tcp' | 'ucx' | 'cuda';
export type RegionMemory = 'host' | 'ucx' | 'cuda';

/** NIXL's status codes (nixl_types.h). */
export const XFER = {
  IN_PROGRESS: 1,
  SUCCESS: 0,
  NOT_POSTED: -1,
  INVALID_PARAM: -2,
  BACKEND: -3,
  NOT_FOUND: -4,
  MISMATCH: -5,
  NOT_ALLOWED: -6,
  UNKNOWN: -8,
  NOT_SUPPORTED: -9,
  REMOTE_DISCONNECT: -10,
  CANCELED: -11,
} as const;

const OPS = {READ: 1, WRITE: 2, NOTIFY: 3} as const;
const BACKENDS: Record<TransferBackend, number> = {auto: 0, shm: 1, tcp: 2, ucx: 3, cuda: 4};
const MEMORIES: Record<RegionMemory, number> = {host: 0, ucx: 1, cuda: 2};

/** `length` bytes at `offset` of region `region` (a local region, or the peer's by its id there). */
export interface ByteRange {
  region: number;
  offset: number;
  length: number;
}

export interface TransferResult {
  /** 0 done; negative: NIXL's error codes (XFER). */
  status: number;
  ok: boolean;
  error?: string;
  bytes: number;
  /** Nanoseconds on the agent's thread, from the start of the work to its end. */
  ns: number;
  backend?: string;
}

export interface TransferOptions {
  /** Delivered to the peer once the transfer is done (vLLM's "done reading": the peer frees its blocks). */
  notify?: string;
  backend?: TransferBackend;
}

export interface AgentOptions {
  /** Unique among the peers: a worker's id. */
  name: string;
  /** Address the TCP side listens on (default 127.0.0.1). */
  listenHost?: string;
  /** Address peers are told to connect to (default: listenHost). */
  advertiseHost?: string;
  /** 0: any free port. */
  port?: number;
  /** A TCP peer that stays silent this long fails the transfer (default 30 s). */
  timeoutMs?: number;
  /** Also open the UCX backend (default true); where UCX is missing the agent works without it. */
  ucx?: boolean;
  /** The GPU (ordinal) of this agent's `cuda` regions (default 0); opened on first use. */
  cudaDevice?: number;
}

/** Ranges as the addon takes them: [region, offset, length]*. */
export function packRanges(ranges: readonly ByteRange[]): Float64Array {
  const out = new Float64Array(ranges.length * 3);
  for (let i = 0; i < ranges.length; i++) out.set([ranges[i]!.region, ranges[i]!.offset, ranges[i]!.length], i * 3);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TransferAgent {
  private handle: object | undefined;

  private constructor(
    readonly name: string,
    private readonly addon: NativeAddon,
    handle: object,
  ) {
    this.handle = handle;
  }

  static create(opts: AgentOptions, addon: NativeAddon = requireNative()): TransferAgent {
    const listen = opts.listenHost ?? '127.0.0.1';
    return new TransferAgent(opts.name, addon, addon.xferAgentNew(opts.name, listen, opts.advertiseHost ?? listen, opts.port ?? 0, opts.timeoutMs ?? 30_000, opts.ucx ?? true, opts.cudaDevice ?? 0));
  }

  /** Why this machine has no UCX backend (a probe agent opens and closes it); undefined when it has. */
  static ucxMissing(addon: NativeAddon = requireNative()): string | undefined {
    const probe = TransferAgent.create({name: `ucx-probe-${process.pid}`}, addon);
    try {
      return probe.ucxUnavailable;
    } finally {
      probe.close();
    }
  }

  /** Why this machine cannot hold `cuda` regions (no driver, no GPU); undefined when it can. */
  static cudaMissing(addon: NativeAddon = requireNative()): string | undefined {
    const probe = TransferAgent.create({name: `cuda-probe-${process.pid}`, ucx: false}, addon);
    try {
      probe.allocate(1, 'cuda');
      return undefined;
    } catch (e) {
      return (e as Error).message;
    } finally {
      probe.close();
    }
  }

  private get h(): object {
    if (!this.handle) throw new Error(`transfer agent ${this.name} is closed`);
    return this.handle;
  }

  /** Why this agent has no UCX backend (UCX not installed, or not asked for); undefined when it has. */
  get ucxUnavailable(): string | undefined {
    return this.addon.xferUcxUnavailable(this.h);
  }

  get port(): number {
    return this.addon.xferPort(this.h);
  }

  /**
   * A zero-filled region the peers can read and write; its id. `host` memory (a memfd) serves every
   * backend; `ucx` memory is allocated by UCX, so a same-host peer's UCX maps it and copies at
   * memcpy speed (needs the agent's UCX backend; shm cannot map it); `cuda` memory is on the
   * agent's GPU, moved by `cuda` between same-host peers (CUDA IPC) and by `tcp` through host buffers.
   */
  allocate(bytes: number, memory: RegionMemory = 'host'): number {
    return this.addon.xferAllocate(this.h, bytes, MEMORIES[memory]);
  }

  release(region: number): boolean {
    return this.addon.xferRelease(this.h, region);
  }

  /** What a peer needs to reach this agent: give it to `loadPeer` on the other side. */
  metadata(): string {
    return this.addon.xferMetadata(this.h);
  }

  /** Loads (or, for a restarted peer, replaces) a peer; returns its name. */
  loadPeer(metadata: string): string {
    return this.addon.xferLoadPeer(this.h, metadata);
  }

  removePeer(name: string): boolean {
    return this.addon.xferRemovePeer(this.h, name);
  }

  sameHost(peer: string): boolean {
    return this.addon.xferSameHost(this.h, peer);
  }

  /** Pulls the peer's `remote` ranges into the local `local` ones (pairwise equal lengths). */
  read(peer: string, local: readonly ByteRange[], remote: readonly ByteRange[], opts: TransferOptions = {}): Promise<TransferResult> {
    return this.run('READ', peer, packRanges(local), packRanges(remote), opts);
  }

  /** Pushes the local `local` ranges into the peer's `remote` ones. */
  write(peer: string, local: readonly ByteRange[], remote: readonly ByteRange[], opts: TransferOptions = {}): Promise<TransferResult> {
    return this.run('WRITE', peer, packRanges(local), packRanges(remote), opts);
  }

  /** A notification alone (e.g. "release these blocks" without a transfer). */
  notify(peer: string, message: string): Promise<TransferResult> {
    return this.run('NOTIFY', peer, new Float64Array(0), new Float64Array(0), {notify: message});
  }

  /** Posts a transfer of packed ranges; its id, or the refusal as a result. */
  post(op: 'READ' | 'WRITE' | 'NOTIFY', peer: string, local: Float64Array, remote: Float64Array, opts: TransferOptions = {}): number | TransferResult {
    const r = this.addon.xferPost(this.h, OPS[op], peer, local, remote, opts.notify ?? '', BACKENDS[opts.backend ?? 'auto']);
    if ('id' in r) return r.id;
    return {status: r.status, ok: false, error: r.error, bytes: 0, ns: 0};
  }

  /** The result once done; undefined while in progress. The transfer is forgotten once read. */
  poll(id: number): TransferResult | undefined {
    const s = this.addon.xferStatus(this.h, id);
    if (s.status === XFER.IN_PROGRESS) return undefined;
    this.addon.xferForget(this.h, id);
    return {status: s.status, ok: s.status === XFER.SUCCESS, error: s.error, bytes: s.bytes ?? 0, ns: s.ns ?? 0, backend: s.backend};
  }

  /** Blocks the calling thread until done (benchmarks and tests). */
  waitSync(id: number, timeoutMs = 60_000): TransferResult {
    this.addon.xferWait(this.h, id, timeoutMs);
    return this.poll(id) ?? {status: XFER.BACKEND, ok: false, error: `not done after ${timeoutMs} ms`, bytes: 0, ns: 0};
  }

  /** Notifications from peers since the last call, oldest first. */
  notifications(): {agent: string; message: string}[] {
    const flat = this.addon.xferNotifications(this.h);
    const out: {agent: string; message: string}[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({agent: flat[i]!, message: flat[i + 1]!});
    return out;
  }

  /** Writes the pattern of `seed` (a block's hash) into a local range. */
  fill(range: ByteRange, seed: bigint): void {
    this.addon.xferFill(this.h, range.region, range.offset, range.length, seed);
  }

  /** Copies bytes into a local range (its length is the bytes'). */
  writeBytes(region: number, offset: number, bytes: Uint8Array): void {
    this.addon.xferWriteBytes(this.h, region, offset, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** A copy of a local range's bytes. */
  readBytes(range: ByteRange): Buffer {
    return this.addon.xferReadBytes(this.h, range.region, range.offset, range.length);
  }

  /** -1 when the range holds the pattern of `seed`, else the offset of its first wrong byte. */
  verify(range: ByteRange, seed: bigint): number {
    return this.addon.xferVerify(this.h, range.region, range.offset, range.length, seed);
  }

  /**
   * Nanoseconds of a plain copy of `from`'s `src` ranges into this agent's `dst` ranges, both agents
   * in this process: the yardstick of the transfer benchmark (a single-threaded memcpy for host
   * memory, the driver's copy on one stream for GPU memory).
   */
  plainCopyNs(from: TransferAgent, dst: Float64Array, src: Float64Array): number {
    return this.addon.xferCopyNs(this.h, from.h, dst, src);
  }

  /** Stops the agent's threads and frees its regions; peers' transfers to it fail from now on. */
  close(): void {
    if (this.handle) this.addon.xferAgentClose(this.handle);
    this.handle = undefined;
  }

  private async run(op: 'READ' | 'WRITE' | 'NOTIFY', peer: string, local: Float64Array, remote: Float64Array, opts: TransferOptions): Promise<TransferResult> {
    const id = this.post(op, peer, local, remote, opts);
    if (typeof id !== 'number') return id;
    // Poll: the next turn of the loop first (small transfers are done by then), then every ms.
    await new Promise((r) => setImmediate(r));
    for (;;) {
      const done = this.poll(id);
      if (done) return done;
      await sleep(1);
    }
  }
}
