import {statSync} from 'node:fs';
import {join} from 'node:path';
import {execa} from 'execa';
import {describe, expect, it} from 'vitest';
import {withTimeout} from '../../../test/helpers/gates.js';
import {ROOT, fixture, tempDir, until} from '../../../test/helpers/processes.js';
import {sampleWorkerRecord} from '../../../test/helpers/records.js';
import {FileDiscovery} from './file-store.js';

const record = sampleWorkerRecord;

describe('FileDiscovery', () => {
  it('lists registered workers and forgets revoked ones', async () => {
    const store = new FileDiscovery(tempDir(), 1000, 20);
    const a = await store.register(record('a'));
    await store.register(record('b'));
    expect((await store.list()).map((w) => w.id)).toEqual(['a', 'b']);
    await a.revoke();
    expect((await store.list()).map((w) => w.id)).toEqual(['b']);
  });

  it('tells a watcher its first view at once, even an empty one, then each change', async () => {
    const store = new FileDiscovery(tempDir(), 1000, 20);
    const views: string[][] = [];
    const stop = store.watch((ws) => views.push(ws.map((w) => w.id)));
    expect(views).toEqual([[]]); // a frontend started before any worker waits for this
    const lease = await store.register(record('a'));
    await until(() => views.length === 2, 2000, 'the worker to be seen');
    expect(views[1]).toEqual(['a']);
    await lease.revoke();
    await until(() => views.length === 3, 2000, 'the worker to leave');
    expect(views[2]).toEqual([]);
    stop();
  });

  it('keeps a lease alive with heartbeats, and drops it within the TTL after its owner is killed', async () => {
    const dir = tempDir();
    const owner = execa(process.execPath, ['--import', 'tsx', fixture('register-worker.ts'), dir, 'w', '400'], {reject: false, cwd: ROOT});
    const registered = new Promise<void>((r) => owner.stdout?.on('data', (c) => String(c).includes('registered') && r()));
    await withTimeout(registered, 15_000, 'the owner to register');
    const reader = new FileDiscovery(dir, 400, 20);
    const seen: string[][] = [];
    const stop = reader.watch((ws) => seen.push(ws.map((w) => w.id)));
    // Gate on the heartbeats themselves: wait until they have renewed the lease over twice its TTL.
    const lease = join(dir, 'instances', 'w.json');
    const renewals = new Set<number>();
    await until(
      () => {
        const renewed = statSync(lease, {throwIfNoEntry: false})?.mtimeMs;
        if (renewed !== undefined) renewals.add(renewed);
        return renewals.size > 1 && Math.max(...renewals) - Math.min(...renewals) > 2 * 400;
      },
      5000,
      'heartbeats to renew the lease past twice its TTL',
    );
    expect((await reader.list()).map((w) => w.id)).toEqual(['w']);
    owner.kill('SIGKILL');
    const killedAt = Date.now();
    await until(() => seen.at(-1)?.length === 0, 5000, 'expired lease to vanish');
    expect(Date.now() - killedAt).toBeLessThan(2000);
    stop();
    expect(seen[0]).toEqual(['w']);
  });
});
