/**
 * The etcd discovery store against a real etcd (test/helpers/etcd.ts): records under a lease,
 * watchers that see them come and go, a dead owner's record expiring with its lease, and an etcd
 * outage longer than the TTL that loses no worker for good and needs no restart.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {requireEtcd, startEtcd, type TestEtcd} from '../../../test/helpers/etcd.js';
import {execa} from 'execa';
import {ROOT, fixture, until} from '../../../test/helpers/processes.js';
import {sampleWorkerRecord} from '../../../test/helpers/records.js';
import {EtcdDiscovery} from './etcd-store.js';

const record = sampleWorkerRecord;

describe('etcd discovery', () => {
  requireEtcd();
  let etcd: TestEtcd;
  const stores: EtcdDiscovery[] = [];
  const store = (deployment: string, leaseTtlS = 2, warn?: (m: string) => void) => {
    const s = new EtcdDiscovery({endpoints: [etcd.endpoint], deployment, leaseTtlS, warn, retryMs: 100});
    stores.push(s);
    return s;
  };
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    for (const s of stores) s.close();
    await etcd?.stop('SIGTERM');
  });

  it('registers under Dynamo\'s key layout; watchers, old and new, see workers come and go', async () => {
    const worker = store('alpha');
    const frontend = store('alpha');
    const seen: string[][] = [];
    const unwatch = frontend.watch((ws) => seen.push(ws.map((w) => w.id)));
    const a = await worker.register(record('agg-0'));
    const b = await worker.register(record('agg-1'));
    expect(worker.keyOf('agg-0')).toBe('v1/instances/alpha/worker/generate/agg-0');
    await until(() => seen.at(-1)?.length === 2, 5_000, 'the watcher to see both');
    // Another deployment's keys are not ours.
    await store('beta').register(record('agg-9'));
    // A frontend that starts now (a restart) finds every live worker at once.
    const late: string[][] = [];
    const unwatchLate = store('alpha').watch((ws) => late.push(ws.map((w) => w.id)));
    await until(() => late.length > 0, 5_000, 'the new watcher\'s first view');
    expect(late[0]).toEqual(['agg-0', 'agg-1']);
    await a.revoke();
    await until(() => seen.at(-1)?.join() === 'agg-1', 5_000, 'the revoked worker to leave');
    expect(await frontend.list()).toMatchObject([{id: 'agg-1'}]);
    await b.revoke();
    unwatch();
    unwatchLate();
  });

  it('a watcher of a deployment with no worker yet is told so at once: an empty first view', async () => {
    const views: string[][] = [];
    const unwatch = store('empty').watch((ws) => views.push(ws.map((w) => w.id)));
    await until(() => views.length > 0, 5_000, 'the empty first view');
    expect(views).toEqual([[]]);
    unwatch();
  });

  it('a dead owner\'s record leaves with its lease, within the TTL; watchers let it go after their grace', async () => {
    const frontend = store('gamma');
    const seen: string[][] = [];
    const unwatch = frontend.watch((ws) => seen.push(ws.map((w) => w.id)));
    const owner = execa(process.execPath, ['--import', 'tsx', fixture('register-worker.ts'), 'etcd', etcd.endpoint, 'gamma', 'agg-0', '2'], {reject: false, cwd: ROOT, all: true});
    await until(() => seen.at(-1)?.join() === 'agg-0', 15_000, 'the record');
    owner.kill('SIGKILL');
    await owner;
    const t0 = Date.now();
    await until(async () => (await frontend.list()).length === 0, 10_000, 'the lease to expire');
    expect(Date.now() - t0).toBeLessThan(2_000 + 1_500);
    await until(() => seen.at(-1)?.length === 0, 10_000, 'the watcher to let it go');
    unwatch();
  });

  it('an etcd outage longer than the TTL loses no worker for good: the lease is granted again, the watchers rebuild', async () => {
    const warnings: string[] = [];
    const worker = store('delta', 2, (m) => warnings.push(m));
    const frontend = store('delta');
    const lease = await worker.register(record('agg-0'));
    const seen: string[][] = [];
    const unwatch = frontend.watch((ws) => seen.push(ws.map((w) => w.id)));
    await until(() => seen.at(-1)?.join() === 'agg-0', 5_000, 'the record');
    await etcd.stop();
    await new Promise((r) => setTimeout(r, 5_000));
    await etcd.start();
    // Back without any restart of worker or frontend.
    await until(async () => (await frontend.list()).some((w) => w.id === 'agg-0'), 20_000, 'the record back in etcd');
    await until(() => seen.at(-1)?.join() === 'agg-0', 20_000, 'the watcher\'s view to hold it');
    // And it stays for the frontend: right after an outage the client may lose a fresh lease again
    // while its connection settles, and the record is put again; the view never lets go meanwhile.
    const views = seen.length;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(seen.slice(views).every((v) => v.join() === 'agg-0')).toBe(true);
    await until(async () => (await frontend.list()).some((w) => w.id === 'agg-0'), 10_000, 'the record in etcd');
    expect(warnings.some((w) => /lease of agg-0 was lost/.test(w))).toBe(true);
    await lease.revoke();
    unwatch();
  }, 60_000);
});
