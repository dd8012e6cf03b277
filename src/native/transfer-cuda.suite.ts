/**
 * The transfer agent's GPU memory, one suite for two drivers: the stand-in driver on every machine
 * (transfer-cuda.test.ts: test/fixtures/fake-libcuda.c, whose device addresses crash host code that
 * touches them) and the real one where a GPU is (transfer-cuda.gpu.test.ts).
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {createInterface} from 'node:readline';
import {afterEach, describe, expect, it} from 'vitest';
import {TransferAgent, XFER, packRanges} from './transfer.js';

const MiB = 1 << 20;
const PEER = new URL('../../test/fixtures/xfer-peer.mjs', import.meta.url).pathname;

export function deviceMemorySuite(driver: string): void {
  const agents: TransferAgent[] = [];
  const children: ChildProcess[] = [];
  const agent = (name: string) => {
    const a = TransferAgent.create({name, ucx: false});
    agents.push(a);
    return a;
  };
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const a of agents.splice(0)) a.close();
  });

  /** Two agents in this process; `owner` holds 4 MiB of GPU memory, each MiB with its own pattern. */
  function pair(readerMemory: 'cuda' | 'host' = 'cuda') {
    const reader = agent('decode-0');
    const owner = agent('prefill-0');
    const local = reader.allocate(4 * MiB, readerMemory);
    const remote = owner.allocate(4 * MiB, 'cuda');
    for (let b = 0; b < 4; b++) owner.fill({region: remote, offset: b * MiB, length: MiB}, BigInt(100 + b));
    reader.loadPeer(owner.metadata());
    owner.loadPeer(reader.metadata());
    return {reader, owner, local, remote};
  }

  describe(`GPU memory in the transfer agent (${driver})`, () => {
    it('starts zero-filled; fill and verify see its bytes through the driver', () => {
      const a = agent('prefill-0');
      const r = a.allocate(2 * MiB, 'cuda');
      expect(a.verify({region: r, offset: 0, length: MiB}, 1n)).toBe(0);
      a.fill({region: r, offset: MiB, length: MiB}, 1n);
      expect(a.verify({region: r, offset: MiB, length: MiB}, 1n)).toBe(-1);
      expect(a.metadata()).toMatch(/;regions=-3:2097152;cuda=0:\d+:[0-9a-f]{128}/);
    });

    it('READs device to device with cuda (auto picks it on one host), scattered, byte for byte', async () => {
      const {reader, local, remote} = pair();
      const r = await reader.read('prefill-0', [3, 1].map((s) => ({region: local, offset: s * MiB, length: MiB})), [0, 2].map((b) => ({region: remote, offset: b * MiB, length: MiB})));
      expect(r).toMatchObject({ok: true, backend: 'cuda', bytes: 2 * MiB});
      expect(reader.verify({region: local, offset: 3 * MiB, length: MiB}, 100n)).toBe(-1);
      expect(reader.verify({region: local, offset: MiB, length: MiB}, 102n)).toBe(-1);
    });

    it('WRITEs into the peer over cuda and tells it when done', async () => {
      const {reader, owner, local, remote} = pair();
      reader.fill({region: local, offset: 0, length: MiB}, 9n);
      const r = await reader.write('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 3 * MiB, length: MiB}], {backend: 'cuda', notify: 'wrote 3'});
      expect(r.ok, r.error).toBe(true);
      expect(owner.verify({region: remote, offset: 3 * MiB, length: MiB}, 9n)).toBe(-1);
      expect(owner.notifications()).toEqual([{agent: 'decode-0', message: 'wrote 3'}]);
    });

    it('moves GPU memory over tcp through host buffers, into device or host memory, both ways', async () => {
      for (const readerMemory of ['cuda', 'host'] as const) {
        const {reader, owner, local, remote} = pair(readerMemory);
        const read = await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 2 * MiB, length: MiB}], {backend: 'tcp'});
        expect(read).toMatchObject({ok: true, backend: 'tcp'});
        expect(reader.verify({region: local, offset: 0, length: MiB}, 102n)).toBe(-1);
        reader.fill({region: local, offset: MiB, length: 3 * MiB}, 11n);
        const write = await reader.write('prefill-0', [{region: local, offset: MiB, length: 3 * MiB}], [{region: remote, offset: 0, length: 3 * MiB}], {backend: 'tcp'});
        expect(write.ok, write.error).toBe(true);
        expect(owner.verify({region: remote, offset: 0, length: 3 * MiB}, 11n)).toBe(-1);
        for (const a of agents.splice(0)) a.close();
      }
    });

    it('stages a range larger than one staging chunk (4 MiB) over tcp', async () => {
      const reader = agent('decode-0');
      const owner = agent('prefill-0');
      const local = reader.allocate(9 * MiB, 'cuda');
      const remote = owner.allocate(9 * MiB, 'cuda');
      owner.fill({region: remote, offset: 0, length: 9 * MiB}, 13n);
      reader.loadPeer(owner.metadata());
      expect((await reader.read('prefill-0', [{region: local, offset: 0, length: 9 * MiB}], [{region: remote, offset: 0, length: 9 * MiB}], {backend: 'tcp'})).ok).toBe(true);
      expect(reader.verify({region: local, offset: 0, length: 9 * MiB}, 13n)).toBe(-1);
    });

    it('refuses what cannot move GPU memory, with a status that says what can', async () => {
      const {reader, local, remote} = pair();
      const one = (backend: 'shm' | 'ucx') => reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 0, length: MiB}], {backend});
      for (const backend of ['shm', 'ucx'] as const) expect(await one(backend)).toMatchObject({ok: false, status: XFER.NOT_SUPPORTED, error: 'GPU memory moves with cuda (same host) or tcp'});
      const host = agent('prefill-1');
      const hostRegion = host.allocate(MiB);
      reader.loadPeer(host.metadata());
      const r = await reader.read('prefill-1', [{region: local, offset: 0, length: MiB}], [{region: hostRegion, offset: 0, length: MiB}], {backend: 'cuda'});
      expect(r).toMatchObject({ok: false, status: XFER.NOT_SUPPORTED, error: expect.stringMatching(/cuda needs the peer's ranges in GPU memory/)});
    });

    it("opens another process's GPU memory through its IPC handle, and fails at once when that process is gone", async () => {
      const reader = agent('decode-0');
      const local = reader.allocate(2 * MiB, 'cuda');
      const child = spawn(process.execPath, [PEER, 'serve-cuda', 'prefill-7', String(2 * MiB)], {stdio: ['ignore', 'pipe', 'inherit']});
      children.push(child);
      const first = await new Promise<{metadata: string}>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the peer exited (${code}) before it answered`)));
        createInterface({input: child.stdout!}).once('line', (line) => resolve(JSON.parse(line)));
      });
      reader.loadPeer(first.metadata);
      const one = (backend: 'auto' | 'cuda' = 'auto') => reader.read('prefill-7', [{region: local, offset: 0, length: 2 * MiB}], [{region: 0, offset: 0, length: 2 * MiB}], {backend});
      expect(await one()).toMatchObject({ok: true, backend: 'cuda'});
      expect(reader.verify({region: local, offset: 0, length: 2 * MiB}, 7n)).toBe(-1);
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode ? r(undefined) : child.once('exit', r)));
      expect(await one('cuda')).toMatchObject({ok: false, status: XFER.REMOTE_DISCONNECT, error: expect.stringMatching(/prefill-7 \(pid \d+\) is no longer running/)});
      // auto sees a peer that is not running here, tries tcp, and finds nobody there either.
      expect(await one()).toMatchObject({ok: false, status: XFER.REMOTE_DISCONNECT});
    });

    it('releases GPU memory: a released region is refused, and the benchmark yardstick copies device memory', async () => {
      const {reader, owner, local, remote} = pair();
      expect(reader.plainCopyNs(owner, packRanges([{region: local, offset: 0, length: MiB}]), packRanges([{region: remote, offset: 0, length: MiB}]))).toBeGreaterThan(0);
      expect(reader.verify({region: local, offset: 0, length: MiB}, 100n)).toBe(-1);
      expect(owner.release(remote)).toBe(true);
      reader.loadPeer(owner.metadata());
      expect(await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: remote, offset: 0, length: MiB}])).toMatchObject({ok: false, status: XFER.INVALID_PARAM});
    });
  });
}
