/**
 * Disaggregated serving with llama.cpp: the prefill worker's sequence state (the prompt's KV cells,
 * llama_state_seq_get_data) moves to the decode worker through the transfer agent, and the decode
 * worker continues from it (docs/llamacpp.md).
 *
 * Each worker has one agent region of `slots × slotBytes`. The prefill worker copies a finished
 * prefill's state into a free slot under a lease and hands off where it is; the decode worker READs
 * it into a slot of its own, tells the prefill worker to release the lease, and loads the bytes.
 * A lease also runs out by itself, so nothing is held if the decode side dies; a failed READ means
 * the decode worker prefills the prompt itself.
 */
import {randomBytes} from 'node:crypto';
import {type ByteRange, TransferAgent} from '../native/transfer.js';
import type {TransferBackend, TransferMetrics} from './kv-transfer.js';

/** What a llama.cpp prefill worker hands the decode worker (inside its last chunk, relayed by the frontend). */
export interface LlamaHandoff {
  peer: string;
  agent: string;
  leaseId: string;
  region: number;
  offset: number;
  length: number;
  /** The token the prefill sampled after the state's cells (the answer's first). */
  next: number;
  /** Written before the state in the slot: a READ that finds another tells a reused slot (a lease that ran out). */
  stamp: string;
}

export function isLlamaHandoff(v: unknown): v is LlamaHandoff {
  const h = v as Partial<LlamaHandoff> | null;
  return !!h && typeof h.peer === 'string' && typeof h.agent === 'string' && typeof h.leaseId === 'string' && Number.isInteger(h.region) && Number.isInteger(h.offset) && Number.isInteger(h.length) && Number.isInteger(h.next) && typeof h.stamp === 'string';
}

const RELEASE = 'release ';
const STAMP_BYTES = 8;

/** Bytes a sequence's state may take: its cells at f16 plus llama.cpp's own header, page-aligned. */
export function stateSlotBytes(contextPerSequence: number, kvBytesPerTokenF16: number): number {
  return Math.ceil((contextPerSequence * kvBytesPerTokenF16 * 1.1 + (1 << 20) + STAMP_BYTES) / 4096) * 4096;
}

export class LlamaStateExchange {
  private readonly free: number[];
  private readonly leases = new Map<string, {slot: number; timer: NodeJS.Timeout}>();
  private readonly loaded = new Map<string, string>();
  private readonly poll: NodeJS.Timeout;

  private constructor(
    private readonly agent: TransferAgent,
    private readonly region: number,
    readonly slotBytes: number,
    slots: number,
    private readonly backend: TransferBackend,
    private readonly leaseMs: number,
    private readonly metrics: TransferMetrics,
  ) {
    this.free = Array.from({length: slots}, (_, i) => slots - 1 - i);
    this.poll = setInterval(() => this.readNotifications(), 5);
    this.poll.unref();
  }

  static create(opts: {name: string; host: string; advertiseHost: string; slots: number; slotBytes: number; backend: TransferBackend; leaseMs: number; metrics: TransferMetrics}): LlamaStateExchange {
    const agent = TransferAgent.create({name: opts.name, listenHost: opts.host, advertiseHost: opts.advertiseHost, ucx: opts.backend === 'ucx'});
    try {
      // The state is host memory (llama.cpp on the CPU): cuda has nothing to move here.
      const region = agent.allocate(opts.slots * opts.slotBytes, opts.backend === 'ucx' ? 'ucx' : 'host');
      return new LlamaStateExchange(agent, region, opts.slotBytes, opts.slots, opts.backend === 'cuda' ? 'auto' : opts.backend, opts.leaseMs, opts.metrics);
    } catch (e) {
      agent.close();
      throw e;
    }
  }

  private range(slot: number, length: number): ByteRange {
    return {region: this.region, offset: slot * this.slotBytes, length};
  }

  /** Prefill side: holds the state for the decode worker; undefined when it cannot (no free slot, too big). */
  hold(leaseId: string, state: Buffer, next: number): LlamaHandoff | undefined {
    this.release(leaseId); // a retried request id replaces its old lease
    const slot = STAMP_BYTES + state.length <= this.slotBytes ? this.free.pop() : undefined;
    if (slot === undefined) return undefined;
    const stamp = randomBytes(STAMP_BYTES);
    this.agent.writeBytes(this.region, slot * this.slotBytes, Buffer.concat([stamp, state]));
    const timer = setTimeout(() => {
      if (this.release(leaseId)) this.metrics.leasesExpired.inc({});
    }, this.leaseMs);
    timer.unref();
    this.leases.set(leaseId, {slot, timer});
    this.metrics.leases.set({}, this.leases.size);
    return {peer: this.agent.name, agent: this.agent.metadata(), leaseId, region: this.region, offset: slot * this.slotBytes, length: STAMP_BYTES + state.length, next, stamp: stamp.toString('hex')};
  }

  /** Decode side: the state's bytes, or why they could not be had (the caller then prefills). */
  async pull(h: LlamaHandoff, promptTokens: number): Promise<{ok: true; state: Buffer; ms: number} | {ok: false; error: string}> {
    const slot = h.length <= this.slotBytes ? this.free.pop() : undefined;
    try {
      if (this.loaded.get(h.peer) !== h.agent) {
        this.agent.loadPeer(h.agent);
        this.loaded.set(h.peer, h.agent);
      }
      if (slot === undefined) {
        this.notifyRelease(h);
        return this.failed('no_room', `no room for a ${h.length}-byte state from ${h.peer}: prefilling locally`);
      }
      const local = this.range(slot, h.length);
      this.metrics.pending.inc({});
      const r = await this.agent.read(h.peer, [local], [{region: h.region, offset: h.offset, length: h.length}], {notify: RELEASE + h.leaseId, backend: this.backend}).finally(() => this.metrics.pending.dec({}));
      if (!r.ok) {
        this.notifyRelease(h);
        return this.failed('failed', `KV state transfer from ${h.peer} failed (${r.status}): ${r.error}; prefilling locally`);
      }
      const bytes = this.agent.readBytes(local);
      if (bytes.subarray(0, STAMP_BYTES).toString('hex') !== h.stamp) return this.failed('corrupted', `the KV state from ${h.peer} was no longer there (its lease ran out): prefilling locally`);
      this.metrics.transfers.inc({result: 'ok'});
      this.metrics.tokens.inc({}, promptTokens);
      this.metrics.bytes.inc({}, r.bytes);
      this.metrics.seconds.observe({}, r.ns / 1e9);
      return {ok: true, state: bytes.subarray(STAMP_BYTES), ms: r.ns / 1e6};
    } catch (e) {
      this.notifyRelease(h);
      return this.failed('failed', `KV state transfer from ${h.peer} failed: ${(e as Error).message}; prefilling locally`);
    } finally {
      if (slot !== undefined) this.free.push(slot);
    }
  }

  private failed(result: 'failed' | 'corrupted' | 'no_room', error: string): {ok: false; error: string} {
    this.metrics.transfers.inc({result});
    return {ok: false, error};
  }

  private notifyRelease(h: LlamaHandoff): void {
    this.agent.notify(h.peer, RELEASE + h.leaseId).catch(() => {});
  }

  private release(leaseId: string): boolean {
    const lease = this.leases.get(leaseId);
    if (!lease) return false;
    clearTimeout(lease.timer);
    this.free.push(lease.slot);
    this.leases.delete(leaseId);
    this.metrics.leases.set({}, this.leases.size);
    return true;
  }

  private readNotifications(): void {
    for (const n of this.agent.notifications()) if (n.message.startsWith(RELEASE)) this.release(n.message.slice(RELEASE.length));
  }

  close(): void {
    clearInterval(this.poll);
    for (const id of [...this.leases.keys()]) this.release(id);
    this.agent.close();
  }
}
