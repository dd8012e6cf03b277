import {beforeAll, describe, expect, it} from 'vitest';
import {KvBlockManager, type SequenceBlocks, blocksOf} from '../engines/mocker/kv-blocks.js';
import type {BlockHasher} from '../kv/block-hasher.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {native} from '../native/index.js';
import {type TransferBackend, TransferAgent} from '../native/transfer.js';
import {DecodePuller, KvMemory, PrefillLeases, mockerBlockBytes, transferMetrics} from './kv-transfer.js';

const BLOCK = 4;
let hasher: BlockHasher;
beforeAll(async () => {
  hasher = await DynamoBlockHasher.create(BLOCK);
});

/** A prefill and a decode worker's KV sides, in this process, talking through real agents. */
function workers(leaseMs = 60_000, decodeBlocks = 64, backend: TransferBackend = 'auto') {
  const made: {close(): void}[] = [];
  const side = (name: string, total: number) => {
    const blocks = new KvBlockManager(total, BLOCK);
    const memory = KvMemory.create({name, host: '127.0.0.1', advertiseHost: '127.0.0.1', totalBlocks: total, blockBytes: 4096, backend});
    made.push(memory);
    return {blocks, memory, metrics: transferMetrics()};
  };
  const p = side('prefill-0', 64);
  const d = side('decode-0', decodeBlocks);
  const leases = new PrefillLeases(p.memory, p.blocks, leaseMs, p.metrics, 1);
  made.unshift(leases);
  const puller = new DecodePuller(d.memory, d.blocks, backend, d.metrics);
  /** The prefill worker "computed" the prompt: its blocks are cached (and then released by the engine). */
  const prefill = (tokens: number[]) => {
    const bs = blocksOf(hasher, tokens);
    const seq: SequenceBlocks = {held: [], partial: 0};
    p.blocks.allocate(seq, bs, tokens.length);
    p.blocks.free(seq);
    return bs;
  };
  const close = () => {
    for (const m of made) m.close();
  };
  return {p, d, leases, puller, prefill, close};
}

const tokens = (n: number, from = 0) => Array.from({length: n}, (_, i) => from + i);
const counter = (m: ReturnType<typeof transferMetrics>, result: string) => m.transfers.get({result});

describe.skipIf(!native)('KV hand-off between a prefill and a decode worker', () => {
  const ucxHere = native !== undefined && TransferAgent.ucxMissing() === undefined;
  for (const backend of ['auto', 'ucx'] as const)
  it.skipIf(backend === 'ucx' && !ucxHere)(`pulls the blocks the decode worker lacks, verified, and the release frees the lease (${backend})`, async () => {
    const w = workers(60_000, 64, backend);
    try {
      const prompt = prefill(w, tokens(20));
      const params = w.leases.hold('r1', prompt)!;
      expect(params.slots).toHaveLength(5);
      expect(w.leases.held).toBe(1);
      const out = await w.puller.pull(params, prompt);
      expect(out).toMatchObject({ok: true, pulledBlocks: 5, bytes: 5 * 4096});
      if (!out.ok) return;
      for (let i = 0; i < prompt.keys.length; i++) expect(w.d.memory.agent.verify(w.d.memory.range(w.d.blocks.slotOf(prompt, i)!), prompt.sequence[i]!)).toBe(-1);
      w.d.blocks.free(out.hold);
      await expectSoon(() => w.leases.held === 0);
      expect(w.p.blocks.activeBlocks).toBe(0);
      expect(w.d.metrics.tokens.get({})).toBe(20);
    } finally {
      w.close();
    }
  });

  it('pulls nothing for blocks the decode worker caches already, and still releases the lease', async () => {
    const w = workers();
    try {
      const prompt = prefill(w, tokens(16));
      const first = await w.puller.pull(w.leases.hold('a', prompt)!, prompt);
      if (first.ok) w.d.blocks.free(first.hold);
      const again = await w.puller.pull(w.leases.hold('b', prompt)!, prompt);
      expect(again).toMatchObject({ok: true, pulledBlocks: 0});
      await expectSoon(() => w.leases.held === 0);
    } finally {
      w.close();
    }
  });

  it('catches corrupted bytes: the blocks are dropped, never left cached, and counted', async () => {
    const w = workers();
    try {
      const prompt = prefill(w, tokens(12));
      const params = w.leases.hold('r', prompt)!;
      // The second block's bytes change after the prefill wrote them.
      w.p.memory.agent.fill({...w.p.memory.range(params.slots[1]!), length: 8}, 99n);
      const out = await w.puller.pull(params, prompt);
      expect(out).toMatchObject({ok: false, reason: 'corrupted', error: expect.stringMatching(/block 1 .* corrupted/)});
      expect([0, 1, 2].map((i) => w.d.blocks.slotOf(prompt, i))).toEqual([undefined, undefined, undefined]);
      expect(w.d.blocks.freeBlocks).toBe(64);
      expect(counter(w.d.metrics, 'corrupted')).toBe(1);
    } finally {
      w.close();
    }
  });

  it('refuses blocks of another size, and falls back when the decode worker has no room', async () => {
    const w = workers(60_000, 2);
    try {
      const prompt = prefill(w, tokens(12));
      const params = w.leases.hold('r', prompt)!;
      expect(await w.puller.pull({...params, blockBytes: 8192}, prompt)).toMatchObject({ok: false, reason: 'failed', error: expect.stringMatching(/--kv-memory-scale/)});
      expect(await w.puller.pull(params, prompt)).toMatchObject({ok: false, reason: 'no_room'});
      expect(w.d.blocks.freeBlocks).toBe(2);
    } finally {
      w.close();
    }
  });

  it('lets a lease run out when nobody pulls, freeing its blocks', async () => {
    const w = workers(50);
    try {
      const prompt = prefill(w, tokens(8));
      w.leases.hold('r', prompt);
      expect(w.p.blocks.activeBlocks).toBe(2);
      await expectSoon(() => w.leases.held === 0);
      expect(w.p.blocks.activeBlocks).toBe(0);
      expect(w.p.metrics.leasesExpired.get({})).toBe(1);
    } finally {
      w.close();
    }
  });

  it('sizes a mocker block from the model: KV bytes per token × block size × scale, 64-byte aligned', () => {
    expect(mockerBlockBytes(131072, 16, 1 / 64)).toBe(32768);
    expect(mockerBlockBytes(1000, 3, 0.01)).toBe(64);
  });
});

function prefill(w: ReturnType<typeof workers>, t: number[]) {
  return w.prefill(t);
}

async function expectSoon(cond: () => boolean, ms = 2000) {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
