/**
 * `dynamo up` with etcd discovery on the built binary: with no endpoint given, up runs a real etcd
 * itself (tethered, data in the run directory) before the workers; workers register under leases
 * and the frontend routes from etcd's view. An etcd outage longer than the lease TTL, under load,
 * loses no request and restarts nothing; `dynamo down` leaves no etcd behind.
 */
import {execa} from 'execa';
import OpenAI from 'openai';
import {afterAll, describe, expect, it} from 'vitest';
import {requireEtcd} from './helpers/etcd.js';
import {dynamo, startUntil} from './helpers/cli.js';
import {freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

const MODEL = 'qwen3-0.6b';

describe('dynamo up with etcd discovery', () => {
  requireBinary();
  requireEtcd();
  let stop: (() => Promise<void>) | undefined;
  afterAll(async () => stop?.());

  it('runs its own etcd, serves through it, rides out an etcd outage under load, and leaves nothing behind', async () => {
    const home = tempDir();
    const port = await freePort();
    const env = {
      DYN_HOME: home,
      DYN_WORKERS_BASE_PORT: String(await freePortRange(4)),
      DYN_DISCOVERY_BACKEND: 'etcd',
      DYN_DISCOVERY_ETCD_PORT: String(await freePortRange(2)),
      DYN_DISCOVERY_LEASE_TTL_S: '2',
    };
    const up = await startUntil(['up', '--model', MODEL, '--port', String(port), '--name', 'et', '--workers', '2'], /ready in/, {env, timeoutMs: 60_000});
    stop = async () => {
      up.child.kill('SIGTERM');
      await up.child;
    };
    const ps = async () => (JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; pid?: number; status: string; restarts: number}[]}[])[0]!.processes;
    const procs = await ps();
    expect(procs.map((p) => p.id)).toEqual(['etcd', 'agg-0', 'agg-1', 'frontend']);
    const etcdPid = procs.find((p) => p.id === 'etcd')!.pid!;
    // The workers are in etcd, under Dynamo's key layout.
    const keys = await execa('etcdctl', ['--endpoints', `http://127.0.0.1:${env.DYN_DISCOVERY_ETCD_PORT}`, 'get', '--prefix', 'v1/instances/et/', '--keys-only'], {env: {ETCDCTL_API: '3'}});
    expect(keys.stdout.split('\n').filter(Boolean)).toEqual(['v1/instances/et/worker/generate/agg-0', 'v1/instances/et/worker/generate/agg-1']);

    const client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0});
    const ask = async (i: number) => (await client.completions.create({model: MODEL, prompt: `Question ${i % 5}: what is in the cache?`, max_tokens: 4})).choices[0]!.text;
    expect((await ask(0)).length).toBeGreaterThan(0);

    // etcd stops answering for 5 s (longer than the 2 s lease TTL) while requests keep coming.
    // The tether in front of etcd passes no SIGSTOP: stop the etcd process itself.
    const etcdChild = Number((await execa('pgrep', ['-P', String(etcdPid)])).stdout.trim().split('\n')[0]);
    let served = 0;
    let failed = 0;
    let loading = true;
    const load = (async () => {
      for (let i = 1; loading; i++) {
        await ask(i).then(
          () => served++,
          () => failed++,
        );
      }
    })();
    process.kill(etcdChild, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 5_000));
    process.kill(etcdChild, 'SIGCONT');
    // The leases lost meanwhile are granted again; the frontend never dropped a worker.
    await until(async () => (await execa('etcdctl', ['--endpoints', `http://127.0.0.1:${env.DYN_DISCOVERY_ETCD_PORT}`, 'get', '--prefix', 'v1/instances/et/', '--keys-only'], {env: {ETCDCTL_API: '3'}, reject: false})).stdout.split('\n').filter(Boolean).length === 2, 20_000, 'both workers back in etcd');
    loading = false;
    await load;
    expect(failed).toBe(0);
    expect(served).toBeGreaterThan(0);
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {workers: {id: string}[]};
    expect(health.workers.map((w) => w.id)).toEqual(['agg-0', 'agg-1']);
    expect((await ps()).map((p) => p.restarts)).toEqual([0, 0, 0, 0]);

    // Down: everything stops, etcd last, and nothing is left running.
    expect((await dynamo(['down', 'et'], {env, timeout: 60_000})).exitCode).toBe(0);
    await up.child;
    stop = undefined;
    await until(async () => (await execa('pgrep', ['-f', `${home}/runs/et/etcd`], {reject: false})).stdout.trim() === '', 10_000, 'etcd to be gone');
  }, 120_000);
});
