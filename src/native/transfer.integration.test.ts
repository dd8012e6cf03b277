// The transfer agent against a peer in another process that is killed: before a transfer, in the
// middle of one it serves, and in the middle of one it asked for. "In the middle" is observed, not
// timed: the reading side's region starts with a pattern, and the kill comes once the peer's bytes
// have begun to overwrite it while the READ is still in progress.
import {type ChildProcess, spawn} from 'node:child_process';
import {createInterface} from 'node:readline';
import {afterEach, describe, expect, it} from 'vitest';
import {native} from './index.js';
import {TransferAgent, XFER} from './transfer.js';

const PEER = new URL('../../test/fixtures/xfer-peer.mjs', import.meta.url).pathname;
const MiB = 1 << 20;
const BIG = 512 * MiB; // about 150 ms over loopback TCP: room to kill the peer in the middle

const children: ChildProcess[] = [];
const agents: TransferAgent[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const a of agents.splice(0)) a.close();
});

/** Starts the peer script; resolves with its first JSON line that `wanted` accepts (by default its first). */
function peer(args: string[], wanted: (msg: Record<string, unknown>) => boolean = () => true): Promise<{child: ChildProcess; first: Record<string, unknown>}> {
  const child = spawn(process.execPath, [PEER, ...args], {stdio: ['ignore', 'pipe', 'inherit']});
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the peer exited (${code}) before it answered`)));
    const lines = createInterface({input: child.stdout!});
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (!wanted(msg)) return;
      lines.removeAllListeners('line');
      resolve({child, first: msg});
    });
  });
}

const killed = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode ? r(undefined) : child.once('exit', r)));

/** Polls on every turn of the loop until `cond`, failing after `ms`: the READ's bytes are watched as they land. */
async function whenever(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Whether UCX is installed here (setup installs it; the agent opens it with dlopen). */
const ucxHere = native !== undefined && TransferAgent.ucxMissing() === undefined;

function agent(name: string) {
  const a = TransferAgent.create({name});
  agents.push(a);
  return a;
}

describe.skipIf(!native)('TransferAgent and a peer that disappears', () => {
  it('a TCP peer killed mid-READ fails it with REMOTE_DISCONNECT; its restart is reachable again', async () => {
    const reader = agent('decode-0');
    const local = reader.allocate(BIG);
    const head = {region: local, offset: 0, length: MiB};
    reader.fill(head, 3n); // the peer's region is zeros: its bytes landing here change the pattern
    const {child, first} = await peer(['serve', 'prefill-0', String(BIG)]);
    const name = reader.loadPeer(first.metadata as string);
    let settled = false;
    const pending = reader.read(name, [{region: local, offset: 0, length: BIG}], [{region: 0, offset: 0, length: BIG}], {backend: 'tcp'});
    void pending.then(() => (settled = true));
    await whenever(() => settled || reader.verify(head, 3n) !== -1, 10_000, 'the first bytes of the READ');
    expect(settled, 'the READ was still in flight when its peer was killed').toBe(false);
    child.kill('SIGKILL');
    const r = await pending;
    expect(r).toMatchObject({ok: false, status: XFER.REMOTE_DISCONNECT});
    expect(r.error).toMatch(/peer/);
    await killed(child);
    // The same name comes back (a restarted worker): its new metadata replaces the old.
    const again = await peer(['serve', 'prefill-0', String(MiB)]);
    reader.loadPeer(again.first.metadata as string);
    expect((await reader.read('prefill-0', [{region: local, offset: 0, length: MiB}], [{region: 0, offset: 0, length: MiB}], {backend: 'tcp'})).ok).toBe(true);
  });

  it('an shm peer that is gone fails the READ with REMOTE_DISCONNECT', async () => {
    const reader = agent('decode-0');
    const local = reader.allocate(MiB);
    const {child, first} = await peer(['serve', 'prefill-1', String(MiB)]);
    reader.loadPeer(first.metadata as string);
    child.kill('SIGKILL');
    await killed(child);
    const r = await reader.read('prefill-1', [{region: local, offset: 0, length: MiB}], [{region: 0, offset: 0, length: MiB}], {backend: 'shm'});
    expect(r).toMatchObject({ok: false, status: XFER.REMOTE_DISCONNECT, error: expect.stringMatching(/still running/)});
  });

  it.skipIf(!ucxHere)('a UCX peer that is gone fails the READ with REMOTE_DISCONNECT at once (its memory mapped or not)', async () => {
    const reader = agent('decode-0');
    const local = reader.allocate(MiB, 'ucx');
    const {child, first} = await peer(['serve-ucx', 'prefill-2', String(MiB)]);
    reader.loadPeer(first.metadata as string);
    const one = () => reader.read('prefill-2', [{region: local, offset: 0, length: MiB}], [{region: 0, offset: 0, length: MiB}], {backend: 'ucx'});
    expect((await one()).ok).toBe(true); // the peer's segment is mapped here now
    child.kill('SIGKILL');
    await killed(child);
    const started = Date.now();
    expect(await one()).toMatchObject({ok: false, status: XFER.REMOTE_DISCONNECT, error: expect.stringMatching(/prefill-2 \(pid \d+\) is no longer running/)});
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a reader killed in the middle of a READ it asked for leaves the owner serving the others', async () => {
    const owner = agent('prefill-0');
    const region = owner.allocate(BIG);
    owner.fill({region, offset: 0, length: 4 * MiB}, 5n);
    // The reader says when the owner's bytes have begun to land and its READ is still going.
    const {child, first} = await peer(['pull', 'decode-9', String(BIG), owner.metadata()], (m) => 'inFlight' in m);
    expect(first.inFlight, 'the READ was still in flight when its reader was killed').toBe(true);
    child.kill('SIGKILL');
    await killed(child);
    const reader = agent('decode-1');
    const local = reader.allocate(4 * MiB);
    reader.loadPeer(owner.metadata());
    const r = await reader.read('prefill-0', [{region: local, offset: 0, length: 4 * MiB}], [{region, offset: 0, length: 4 * MiB}], {backend: 'tcp'});
    expect(r.ok, r.error).toBe(true);
    expect(reader.verify({region: local, offset: 0, length: 4 * MiB}, 5n)).toBe(-1);
  });
});
