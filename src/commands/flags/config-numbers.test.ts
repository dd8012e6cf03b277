import {Parser} from '@oclif/core';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {configDefaults} from '../../config/defaults.js';
import {DISCOVERY_BACKENDS, ENGINES, EVENT_PLANES} from '../../config/schema.js';
import Frontend from '../frontend.js';
import Worker from '../worker.js';
import {configFlags} from './config-flags.js';

const parse = (flags: Record<string, any>, argv: string[]) => Parser.parse(argv, {flags, args: {}, strict: true});
const D = configDefaults();

describe('role flags that mirror config keys', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('refuse what the config refuses, in the schema\'s words: frontend, worker and up alike', async () => {
    const frontend = (argv: string[]) => parse(Frontend.flags, ['-m', 'qwen3-0.6b', ...argv]);
    await expect(frontend(['--router-prune-target-ratio', '5'])).rejects.toThrow(/--router-prune-target-ratio\s+Too big: expected number to be <=1/);
    await expect(frontend(['--busy-kv-usage', '7'])).rejects.toThrow(/--busy-kv-usage\s+Too big: expected number to be <=1/);
    await expect(frontend(['--busy-kv-usage', '0'])).rejects.toThrow(/Too small: expected number to be >0/);
    await expect(frontend(['--router-block-size', '2048'])).rejects.toThrow(/Too big: expected number to be <=1024/);
    await expect(frontend(['--migration-limit', '1.5'])).rejects.toThrow(/expected int/);
    await expect(frontend(['--discovery-lease-ttl', '1'])).rejects.toThrow(/Too small: expected number to be >=2/);
    // Env twins of the flags go through the same check.
    vi.stubEnv('DYN_ROUTER_BUSY_KV_USAGE', '7');
    await expect(frontend([])).rejects.toThrow(/Too big: expected number to be <=1/);
    vi.unstubAllEnvs();
    const ok = (await frontend(['--busy-kv-usage', '0.9', '--router-prune-target-ratio', '1'])).flags;
    expect([ok['busy-kv-usage'], ok['router-prune-target-ratio']]).toEqual([0.9, 1]);

    const worker = (argv: string[]) => parse(Worker.flags, ['-m', 'qwen3-0.6b', ...argv]);
    await expect(worker(['--kv-memory-scale', '0'])).rejects.toThrow(/Too small: expected number to be >0/);
    await expect(worker(['--rpc-port', '70000'])).rejects.toThrow(/Too big: expected number to be <=65535/);
    await expect(worker(['--tp', '65'])).rejects.toThrow(/Too big: expected number to be <=64/);
    expect((await worker(['--speedup-ratio', 'inf'])).flags['speedup-ratio']).toBe(Number.POSITIVE_INFINITY);

    await expect(parse(configFlags, ['--router-prune-target-ratio', '5'])).rejects.toThrow(/Too big: expected number to be <=1/);
  });

  it('take their defaults and choices from the schema', async () => {
    const w = (await parse(Worker.flags, ['-m', 'qwen3-0.6b'])).flags;
    expect(w['engine-request-limit']).toBe(D.workers.engineRequestLimit);
    expect([w.discovery, w['event-plane'], w['discovery-lease-ttl']]).toEqual([D.discovery.backend, D.eventPlane.backend, D.discovery.leaseTtlS]);
    expect(Worker.flags.engine.options).toEqual([...ENGINES]);
    expect(Worker.flags.engine.options).not.toContain('cpu');
    expect(configFlags.engine.options).toEqual([...ENGINES]);
    for (const flags of [Worker.flags, Frontend.flags, configFlags]) {
      expect(flags.discovery.options).toEqual([...DISCOVERY_BACKENDS]);
      expect(flags['event-plane'].options).toEqual([...EVENT_PLANES]);
    }
    const f = (await parse(Frontend.flags, ['-m', 'qwen3-0.6b'])).flags;
    expect([f['busy-kv-usage'], f['router-prune-target-ratio'], f.port, f['overload-status-code']]).toEqual([D.router.busyKvUsage, D.router.pruneTargetRatio, D.frontend.port, String(D.frontend.overloadStatusCode)]);
  });
});
