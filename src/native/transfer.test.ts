import {afterEach, describe, expect, it} from 'vitest';
import {native} from './index.js';
import {TransferAgent, XFER} from './transfer.js';

const MiB = 1 << 20;
/** Whether UCX is installed here (setup installs it; the agent opens it with dlopen). */
const ucxHere = native !== undefined && TransferAgent.ucxMissing() === undefined;
const agents: TransferAgent[] = [];
const agent = (name: string, ucx = true) => {
  const a = TransferAgent.create({name, ucx});
  agents.push(a);
  return a;
};
afterEach(() => {
  for (const a of agents.splice(0)) a.close();
});

/** Two agents that know each other; `owner` holds 4 blocks of 1 MiB, each with its own pattern. */
function pair() {
  const reader = agent('decode-0');
  const owner = agent('prefill-0');
  const local = reader.allocate(8 * MiB);
  const remote = owner.allocate(8 * MiB);
  for (let b = 0; b < 4; b++) owner.fill({region: remote, offset: b * MiB, length: MiB}, BigInt(1000 + b));
  reader.loadPeer(owner.metadata());
  owner.loadPeer(reader.metadata());
  return {reader, owner, local, remote};
}

describe.skipIf(!native)('TransferAgent', () => {
  for (const backend of ['shm', 'tcp', 'ucx'] as const) {
    it.skipIf(backend === 'ucx' && !ucxHere)(`${backend}: READs a scattered block list into other places, byte for byte`, async () => {
      const {reader, local, remote} = pair();
      // Owner blocks 3, 0, 2 land in reader slots 5, 1, 6.
      const r = await reader.read('prefill-0', [5, 1, 6].map((s) => ({region: local, offset: s * MiB, length: MiB})), [3, 0, 2].map((b) => ({region: remote, offset: b * MiB, length: MiB})), {backend});
      expect(r).toMatchObject({status: XFER.SUCCESS, ok: true, bytes: 3 * MiB, backend});
      expect([5, 1, 6].map((s, i) => reader.verify({region: local, offset: s * MiB, length: MiB}, BigInt(1000 + [3, 0, 2][i]!)))).toEqual([-1, -1, -1]);
      // Slot 0 was not written: still zeros, so not the pattern.
      expect(reader.verify({region: local, offset: 0, length: MiB}, 1000n)).toBe(0);
    });

    it.skipIf(backend === 'ucx' && !ucxHere)(`${backend}: WRITEs into the peer and tells it when done`, async () => {
      const {reader, owner, local, remote} = pair();
      reader.fill({region: local, offset: 0, length: 2 * MiB}, 77n);
      const r = await reader.write('prefill-0', [{region: local, offset: 0, length: 2 * MiB}], [{region: remote, offset: 6 * MiB, length: 2 * MiB}], {backend, notify: 'wrote 6-7'});
      expect(r.ok, r.error).toBe(true);
      expect(owner.verify({region: remote, offset: 6 * MiB, length: 2 * MiB}, 77n)).toBe(-1);
      expect(owner.notifications()).toEqual([{agent: 'decode-0', message: 'wrote 6-7'}]);
      expect(owner.notifications()).toEqual([]);
    });
  }

  it('picks shm for a peer on this host, and delivers a READ notification after the bytes', async () => {
    const {reader, owner, local, remote} = pair();
    expect(reader.sameHost('prefill-0')).toBe(true);
    const r = await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 0, length: MiB}], {notify: 'release 0'});
    expect(r.backend).toBe('shm');
    expect(owner.notifications()).toEqual([{agent: 'decode-0', message: 'release 0'}]);
    expect((await reader.notify('prefill-0', 'bye')).ok).toBe(true);
    expect(owner.notifications()).toEqual([{agent: 'decode-0', message: 'bye'}]);
  });

  it('detects bytes corrupted on the way: verify names the first wrong byte', async () => {
    const {reader, owner, local, remote} = pair();
    // Eight bytes of the block overwritten with another block's pattern.
    owner.fill({region: remote, offset: 12_344, length: 8}, 9n);
    const r = await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 0, length: MiB}], {backend: 'tcp'});
    expect(r.ok).toBe(true);
    const bad = reader.verify({region: local, offset: 0, length: MiB}, 1000n);
    expect(bad).toBeGreaterThanOrEqual(12_344);
    expect(bad).toBeLessThan(12_352);
  });

  it('refuses bad requests with a status, not an exception', async () => {
    const {reader, local, remote} = pair();
    const one = (offset: number, length = MiB) => [{region: remote, offset, length}];
    expect(await reader.read('nobody', [{region: local, offset: 0, length: MiB}], one(0))).toMatchObject({ok: false, status: XFER.NOT_FOUND, error: expect.stringMatching(/unknown peer nobody/)});
    expect(await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], one(0, 2 * MiB))).toMatchObject({status: XFER.INVALID_PARAM, error: expect.stringMatching(/differs in length/)});
    expect(await reader.read('prefill-0', [{region: local, offset: 8 * MiB, length: MiB}], one(0))).toMatchObject({status: XFER.INVALID_PARAM, error: expect.stringMatching(/past its region/)});
    for (const backend of ['shm', 'tcp'] as const) {
      expect(await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], one(8 * MiB), {backend})).toMatchObject({status: XFER.INVALID_PARAM, error: expect.stringMatching(/not inside region/)});
    }
    // The connection is still good afterwards.
    expect((await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], one(0), {backend: 'tcp'})).ok).toBe(true);
  });

  it('fails transfers to a closed peer with REMOTE_DISCONNECT, and throws on use of a closed agent', async () => {
    const {reader, owner, local, remote} = pair();
    owner.close();
    const r = await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 0, length: MiB}], {backend: 'tcp'});
    expect(r).toMatchObject({ok: false, status: XFER.REMOTE_DISCONNECT, error: expect.stringMatching(/connect to prefill-0/)});
    expect(() => owner.metadata()).toThrow(/prefill-0 is closed/);
  });

  it.skipIf(!ucxHere)('refuses ucx toward a peer without UCX, and says why an agent has none', async () => {
    const reader = agent('decode-0');
    const owner = agent('prefill-0', false);
    expect(owner.ucxUnavailable).toBe('not asked for');
    const local = reader.allocate(MiB);
    const remote = owner.allocate(MiB);
    reader.loadPeer(owner.metadata());
    const r = await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 0, length: MiB}], {backend: 'ucx'});
    expect(r).toMatchObject({ok: false, status: XFER.NOT_SUPPORTED, error: 'the peer prefill-0 has no UCX backend'});
  });

  it.skipIf(!ucxHere)('UCX memory: a same-host peer reads it through UCX (auto picks ucx, tcp still serves it, shm cannot map it)', async () => {
    const reader = agent('decode-0');
    const owner = agent('prefill-0');
    const local = reader.allocate(4 * MiB, 'ucx');
    const remote = owner.allocate(4 * MiB, 'ucx');
    owner.fill({region: remote, offset: 0, length: 4 * MiB}, 5n);
    reader.loadPeer(owner.metadata());
    const ranges = (at: number) => [{region: local, offset: at, length: 2 * MiB}];
    const auto = await reader.read('prefill-0', ranges(0), [{region: remote, offset: 0, length: 2 * MiB}]);
    expect(auto).toMatchObject({ok: true, backend: 'ucx', bytes: 2 * MiB});
    const tcp = await reader.read('prefill-0', ranges(2 * MiB), [{region: remote, offset: 2 * MiB, length: 2 * MiB}], {backend: 'tcp'});
    expect(tcp.ok, tcp.error).toBe(true);
    expect(reader.verify({region: local, offset: 0, length: 4 * MiB}, 5n)).toBe(-1);
    const shm = await reader.read('prefill-0', ranges(0), [{region: remote, offset: 0, length: 2 * MiB}], {backend: 'shm'});
    expect(shm).toMatchObject({ok: false, status: XFER.NOT_SUPPORTED, error: expect.stringMatching(/UCX's memory: use ucx/)});
    // A WRITE lands too, and released UCX memory is refused like any released region.
    reader.fill({region: local, offset: 0, length: MiB}, 6n);
    expect((await reader.write('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 3 * MiB, length: MiB}])).ok).toBe(true);
    expect(owner.verify({region: remote, offset: 3 * MiB, length: MiB}, 6n)).toBe(-1);
    expect(owner.release(remote)).toBe(true);
    reader.loadPeer(owner.metadata());
    expect(await reader.read('prefill-0', ranges(0), [{region: remote, offset: 0, length: MiB}])).toMatchObject({ok: false, status: XFER.INVALID_PARAM});
  });

  it('asks for UCX before it allocates UCX memory', () => {
    expect(() => agent('decode-0', false).allocate(MiB, 'ucx')).toThrow(/no UCX backend: not asked for/);
  });

  it('says why it cannot listen', () => {
    expect(() => TransferAgent.create({name: 'x', listenHost: '203.0.113.1'})).toThrow(/listen on 203\.0\.113\.1:0/);
    expect(() => TransferAgent.create({name: 'a;b'})).toThrow(/agent name/);
  });
});
