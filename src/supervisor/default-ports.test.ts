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

  it('move worker and engine ranges past ports in use on the hosts the workers land on, the frontend past those here', async () => {
    const loaded = load('model: llama-3.1-8b\nengine: vllm\nhosts: {gpu1: {address: 10.0.0.11}, gpu2: {address: 10.0.0.12}, idle: {address: 10.0.0.13}}\nworkers: {agg: {count: 2, hosts: [gpu1, local, idle]}}\n');
    const asked = new Set<string>();
    const taken: Record<string, number[]> = {local: [8000, 8300], gpu1: [8101, 20080], idle: [8104]};
    const c = await withFreeDefaultPorts(loaded, async (port, host) => {
      asked.add(host);
      return !taken[host]?.includes(port);
    });
    expect([c.frontend.port, c.workers.basePort, c.engineOptions.basePort, c.engineOptions.kvEventsBasePort]).toEqual([8001, 8102, 8301, 20081]);
    // Two workers land on gpu1 and here; the third host of the list is not used.
    expect([...asked].sort()).toEqual(['gpu1', 'local']);
  });
});
