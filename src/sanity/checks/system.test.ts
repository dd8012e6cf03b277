import {describe, expect, it} from 'vitest';
import type {CheckOutcome, SanityContext, SystemFacts} from '../check.js';
import {systemChecks} from './system.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

// A DGX H100 host, as probed (rounded): 2 sockets, 8 NUMA nodes, 2 TiB, big /dev/shm, limits raised.
const DGX: SystemFacts & {os: {container?: string}} = {
  os: {distro: 'Ubuntu', release: '22.04.4 LTS', kernel: '5.15.0-105-generic', arch: 'x64', hostname: 'dgx-01'},
  cpu: {model: 'Intel Xeon Platinum 8480C', cores: 224, sockets: 2, numaNodes: 8},
  memory: {totalBytes: 2015 * GiB, availableBytes: 1950 * GiB},
  shm: {totalBytes: 1007 * GiB, freeBytes: 1006 * GiB},
  limits: {openFiles: 1048576, lockedMemoryBytes: null},
  modelCache: {path: '/raid/hf/hub', freeBytes: 12 * 1024 * GiB},
  timeSynced: true,
};

// `docker run` with its defaults on a workstation: 64 MiB /dev/shm, default ulimits, a small disk.
const DOCKER_DEFAULTS: SystemFacts & {os: {container?: string}} = {
  os: {distro: 'Debian GNU/Linux', release: '12', kernel: '6.8.0-45-generic', arch: 'x64', hostname: '3f2a9c1d', container: 'docker'},
  cpu: {model: 'AMD Ryzen 9 7950X', cores: 32, sockets: 1, numaNodes: 1},
  memory: {totalBytes: 64 * GiB, availableBytes: 9.5 * GiB},
  shm: {totalBytes: 64 * MiB, freeBytes: 64 * MiB},
  limits: {openFiles: 1024, lockedMemoryBytes: 8 * MiB},
  modelCache: {path: '/root/.cache/huggingface/hub', freeBytes: 31.4 * GiB},
  timeSynced: false,
};

function ctx(facts: SystemFacts, params: Record<string, unknown> = {}): SanityContext {
  return {
    host: 'local',
    thorough: false,
    engine: 'mocker',
    params,
    facts: {
      system: async () => facts,
      gpu: () => Promise.reject(new Error('system checks read no GPU')),
      listeners: () => Promise.reject(new Error('system checks read no ports')),
      run: () => Promise.reject(new Error('system checks run no commands')),
    },
  };
}

const byId = new Map(systemChecks.map((c) => [c.id.replace('system.', ''), c]));
const run = (id: string, facts: SystemFacts, params?: Record<string, unknown>): Promise<CheckOutcome> => byId.get(id)!.run(ctx(facts, params));
const brief = ({status, finding, fix}: CheckOutcome) => ({status, finding, fix});

describe('system checks', () => {
  it('are the seven of area "system", with unique ids', () => {
    expect(systemChecks.map((c) => c.id)).toEqual(['system.os', 'system.cpu', 'system.memory', 'system.shm', 'system.limits', 'system.disk', 'system.time']);
    expect(new Set(systemChecks.map((c) => c.area))).toEqual(new Set(['system']));
  });

  it('pass on a healthy GPU host', async () => {
    const outcomes = await Promise.all([...byId.keys()].map((id) => run(id, DGX)));
    expect(outcomes.map(brief)).toEqual([
      {status: 'pass', finding: 'Ubuntu 22.04.4 LTS, kernel 5.15.0-105-generic, x64, on the host', fix: undefined},
      {status: 'pass', finding: 'Intel Xeon Platinum 8480C, 224 cores, 2 sockets, 8 NUMA nodes', fix: undefined},
      {status: 'pass', finding: '1.9 TiB available of 2 TiB', fix: undefined},
      {status: 'pass', finding: '1007 GiB (1006 GiB free)', fix: undefined},
      {status: 'pass', finding: 'open files 1048576, locked memory unlimited', fix: undefined},
      {status: 'pass', finding: '12 TiB free at /raid/hf/hub', fix: undefined},
      {status: 'pass', finding: 'synchronized (NTP)', fix: undefined},
    ]);
  });

  it('say what to fix in a container started with docker defaults', async () => {
    expect(brief(await run('os', DOCKER_DEFAULTS))).toEqual({status: 'pass', finding: 'Debian GNU/Linux 12, kernel 6.8.0-45-generic, x64, in a docker container', fix: undefined});
    expect(brief(await run('cpu', DOCKER_DEFAULTS))).toEqual({status: 'pass', finding: 'AMD Ryzen 9 7950X, 32 cores, 1 socket, 1 NUMA node', fix: undefined});
    expect(brief(await run('memory', DOCKER_DEFAULTS))).toEqual({
      status: 'warn',
      finding: '9.5 GiB available of 64 GiB (want ≥ 16 GiB)',
      fix: 'stop what holds the memory, or give the container more (docker run --memory=…)',
    });
    expect(brief(await run('shm', DOCKER_DEFAULTS))).toEqual({
      status: 'warn',
      finding: '64 MiB (64 MiB free), want ≥ 1 GiB',
      fix: 'NCCL and NIXL need it: docker run --shm-size=16g / mount -o remount,size=16G /dev/shm',
    });
    expect(brief(await run('limits', DOCKER_DEFAULTS))).toEqual({
      status: 'warn',
      finding: 'open files 1024 (want ≥ 65536), locked memory 8 MiB (want unlimited for RDMA: UCX, NIXL)',
      fix: 'ulimit -n 1048576 (docker: --ulimit nofile=1048576:1048576); ulimit -l unlimited (docker: --ulimit memlock=-1)',
    });
    expect(brief(await run('disk', DOCKER_DEFAULTS))).toEqual({
      status: 'warn',
      finding: '31.4 GiB free at /root/.cache/huggingface/hub (want ≥ 50 GiB for model weights)',
      fix: 'free space there, or point HF_HUB_CACHE (or HF_HOME) at a disk with room',
    });
    expect((await run('time', DOCKER_DEFAULTS)).status).toBe('warn');
  });

  it('fail when /dev/shm is not mounted at all', async () => {
    const o = await run('shm', {...DGX, shm: undefined});
    expect(o.status).toBe('fail');
    expect(o.finding).toBe('/dev/shm is not mounted');
    expect(o.fix).toContain('mount -t tmpfs');
  });

  it('follow the thresholds of their suite', async () => {
    expect((await run('shm', DOCKER_DEFAULTS, {minGiB: 0.0625})).status).toBe('pass');
    expect((await run('disk', DGX, {minFreeGiB: 20 * 1024})).status).toBe('warn');
    expect((await run('memory', DOCKER_DEFAULTS, {minAvailableGiB: 8})).status).toBe('pass');
    const limits = await run('limits', DOCKER_DEFAULTS, {minOpenFiles: 1024, memlockUnlimited: false});
    expect(brief(limits)).toEqual({status: 'pass', finding: 'open files 1024, locked memory 8 MiB', fix: undefined});
  });

  it('warn about only the limit that is low', async () => {
    const o = await run('limits', {...DGX, limits: {openFiles: 1048576, lockedMemoryBytes: 64 * 1024}});
    expect(brief(o)).toEqual({
      status: 'warn',
      finding: 'open files 1048576, locked memory 64 KiB (want unlimited for RDMA: UCX, NIXL)',
      fix: 'ulimit -l unlimited (docker: --ulimit memlock=-1)',
    });
  });

  it('skip what cannot be told, saying why', async () => {
    expect(brief(await run('time', {...DGX, timeSynced: undefined}))).toEqual({status: 'skip', finding: 'cannot tell: neither timedatectl, chronyc nor ntpstat answered', fix: undefined});
    expect((await run('disk', {...DGX, modelCache: {path: '/nfs/hub'}})).status).toBe('skip');
  });

  it('warn on an architecture engines do not ship for', async () => {
    const o = await run('os', {...DGX, os: {...DGX.os, arch: 'ppc64'}});
    expect(o.status).toBe('warn');
  });

  it('reject a threshold of the wrong type by name (the runner reports it as a crash)', async () => {
    await expect(run('shm', DGX, {minGiB: '1G'})).rejects.toThrow('parameter "minGiB" must be a number, got "1G"');
  });

  it('carry machine-readable data for --json', async () => {
    expect((await run('shm', DOCKER_DEFAULTS)).data).toEqual({totalBytes: 64 * MiB, freeBytes: 64 * MiB, minBytes: GiB});
    expect((await run('os', DOCKER_DEFAULTS)).data).toMatchObject({container: 'docker', arch: 'x64'});
  });
});
