import {readFileSync} from 'node:fs';
import {hostname} from 'node:os';
import {describe, expect, it} from 'vitest';
import {runCommand} from './run.js';
import {probeSystem} from './system.js';

describe('probeSystem on this machine', () => {
  it('reads facts that agree with what the machine says elsewhere', async () => {
    const f = await probeSystem({run: runCommand, env: {HF_HOME: '/nonexistent-dynamo-test/hf'}, home: '/home/nobody'});
    expect(f.os.hostname).toBe(hostname());
    expect(f.os.kernel).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(f.cpu.cores).toBeGreaterThan(0);
    expect(f.memory.availableBytes).toBeLessThanOrEqual(f.memory.totalBytes);
    const nofile = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1];
    expect(f.limits.openFiles).toBe(nofile === 'unlimited' ? null : Number(nofile));
    // A cache that does not exist yet is judged by the disk it would be created on.
    expect(f.modelCache.path).toBe('/nonexistent-dynamo-test/hf/hub');
    expect(f.modelCache.freeBytes).toBeGreaterThan(0);
  });
});
