import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {loadConfig} from '../config/load.js';
import {withFreeDefaultPorts} from './default-ports.js';

const load = (yaml: string, flags: {flag: string; path: string[]; value: unknown}[] = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'dyn-ports-'));
  writeFileSync(join(dir, 'dynamo.config.yaml'), yaml);
  return loadConfig({cwd: dir, env: {}, flags});
};
const busy = (...ports: number[]) => async (p: number) => !ports.includes(p);

describe('ports left at their defaults', () => {
  it('stay where they are when free', async () => {
    const c = await withFreeDefaultPorts(load('model: qwen3-0.6b\n'), busy());
    expect([c.frontend.port, c.workers.basePort]).toEqual([8000, 8100]);
  });

  it('move past ports in use, each range whole (a second deployment on this machine)', async () => {
    // The first deployment holds 8000 and 8100–8103.
    const c = await withFreeDefaultPorts(load('model: qwen3-0.6b\n'), busy(8000, 8100, 8101, 8102, 8103));
    expect([c.frontend.port, c.workers.basePort]).toEqual([8001, 8104]);
  });

  it('never move a port the user set, and keep the moved ranges off it', async () => {
    const loaded = load('model: qwen3-0.6b\nfrontend: {port: 8101}\n');
    const c = await withFreeDefaultPorts(loaded, busy(8101));
    expect(c.frontend.port).toBe(8101);
    expect(c.workers.basePort).toBe(8102); // 8100–8101 would take the frontend's port
  });

  it('move the engines\' ranges and the etcd up runs the same way, clear of each other', async () => {
    const c = await withFreeDefaultPorts(load('model: llama-3.1-8b\nengine: vllm\ndiscovery: {backend: etcd}\n'), busy(8300, 20081, 2379));
    expect(c.engineOptions.basePort).toBe(8301);
    expect(c.engineOptions.kvEventsBasePort).toBe(20082); // two workers × (PUB, replay): 20082–20085
    expect(c.engineOptions.transferBasePort).toBe(5600);
    expect(c.discovery.etcdPort).toBe(2380);
  });

  it('leave workers on SSH hosts on their configured ports', async () => {
    const loaded = load('model: qwen3-0.6b\nhosts: {gpu1: {address: 10.0.0.11}}\nworkers: {agg: {count: 1, hosts: [gpu1]}}\n');
    const c = await withFreeDefaultPorts(loaded, busy(8100));
    expect(c.workers.basePort).toBe(8100);
  });
});
