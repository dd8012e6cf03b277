/**
 * System checks (area 'system'): the machine under the engines. Each is a pure verdict over
 * `SystemFacts` and its suite parameters (sanity/system.yaml):
 * - memory  `minAvailableGiB` (16): below it, warn: model loading and the KV cache's host copies compete for it.
 * - shm     `minGiB` (1): NCCL and NIXL keep their buffers in /dev/shm; Docker's default 64 MiB breaks them (warn), none at all fails.
 * - limits  `minOpenFiles` (65536): each request holds sockets and files; `memlockUnlimited` (true): RDMA (UCX, NIXL) pins memory (warn otherwise).
 * - disk    `minFreeGiB` (50): free space where model weights are cached.
 * - time    clocks in sync across hosts (warn when NTP says no; skip when nothing can tell).
 */
import type {Check, CheckOutcome, SanityContext, SystemFacts} from '../check.js';
import {booleanParam, formatBytes, gib, numberParam} from '../params.js';

const SUPPORTED_ARCHES = ['x64', 'arm64'];

/** The container runtime, once facts carry it (see facts/system.ts's MachineFacts). */
const containerOf = (os: SystemFacts['os']): string | undefined => (os as {container?: string}).container;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function osVerdict(f: SystemFacts): CheckOutcome {
  const {distro, release, kernel, arch} = f.os;
  const container = containerOf(f.os);
  const where = container ? `in a ${container} container` : 'on the host';
  const finding = `${[distro, release].filter(Boolean).join(' ')}, kernel ${kernel}, ${arch}, ${where}`;
  const data = {...f.os, container: container ?? null};
  if (!SUPPORTED_ARCHES.includes(arch)) {
    return {status: 'warn', finding, fix: 'engines and CUDA builds ship for x86_64 and aarch64: run on one of those', data};
  }
  return {status: 'pass', finding, data};
}

function cpuVerdict(f: SystemFacts): CheckOutcome {
  const {model, cores, sockets, numaNodes} = f.cpu;
  return {
    status: 'pass',
    finding: `${model || 'unknown CPU'}, ${plural(cores, 'core')}, ${plural(sockets, 'socket')}, ${plural(numaNodes, 'NUMA node')}`,
    data: {...f.cpu},
  };
}

function memoryVerdict(f: SystemFacts, params: Record<string, unknown>): CheckOutcome {
  const min = numberParam(params, 'minAvailableGiB', 16);
  const {totalBytes, availableBytes} = f.memory;
  const finding = `${formatBytes(availableBytes)} available of ${formatBytes(totalBytes)}`;
  const data = {...f.memory, minAvailableBytes: gib(min)};
  if (availableBytes < gib(min)) {
    return {status: 'warn', finding: `${finding} (want ≥ ${min} GiB)`, fix: 'stop what holds the memory, or give the container more (docker run --memory=…)', data};
  }
  return {status: 'pass', finding, data};
}

const SHM_FIX = 'NCCL and NIXL need it: docker run --shm-size=16g / mount -o remount,size=16G /dev/shm';

function shmVerdict(f: SystemFacts, params: Record<string, unknown>): CheckOutcome {
  const min = numberParam(params, 'minGiB', 1);
  if (!f.shm) {
    return {status: 'fail', finding: '/dev/shm is not mounted', fix: 'NCCL and NIXL need it: docker run --shm-size=16g / mount -t tmpfs -o size=16G tmpfs /dev/shm', data: {minBytes: gib(min)}};
  }
  const finding = `${formatBytes(f.shm.totalBytes)} (${formatBytes(f.shm.freeBytes)} free)`;
  const data = {...f.shm, minBytes: gib(min)};
  if (f.shm.totalBytes < gib(min)) return {status: 'warn', finding: `${finding}, want ≥ ${min} GiB`, fix: SHM_FIX, data};
  return {status: 'pass', finding, data};
}

function limitsVerdict(f: SystemFacts, params: Record<string, unknown>): CheckOutcome {
  const minOpen = numberParam(params, 'minOpenFiles', 65536);
  const wantUnlimited = booleanParam(params, 'memlockUnlimited', true);
  const {openFiles, lockedMemoryBytes} = f.limits;
  const lowFiles = openFiles !== null && openFiles < minOpen;
  const lowMemlock = wantUnlimited && lockedMemoryBytes !== null;
  const files = `open files ${openFiles ?? 'unlimited'}${lowFiles ? ` (want ≥ ${minOpen})` : ''}`;
  const memlock = `locked memory ${lockedMemoryBytes === null ? 'unlimited' : formatBytes(lockedMemoryBytes)}${lowMemlock ? ' (want unlimited for RDMA: UCX, NIXL)' : ''}`;
  const fixes = [lowFiles && 'ulimit -n 1048576 (docker: --ulimit nofile=1048576:1048576)', lowMemlock && 'ulimit -l unlimited (docker: --ulimit memlock=-1)'].filter(Boolean);
  const data = {openFiles, lockedMemoryBytes, minOpenFiles: minOpen, memlockUnlimited: wantUnlimited};
  if (fixes.length) return {status: 'warn', finding: `${files}, ${memlock}`, fix: fixes.join('; '), data};
  return {status: 'pass', finding: `${files}, ${memlock}`, data};
}

function diskVerdict(f: SystemFacts, params: Record<string, unknown>): CheckOutcome {
  const min = numberParam(params, 'minFreeGiB', 50);
  const {path, freeBytes} = f.modelCache;
  const data = {path, freeBytes: freeBytes ?? null, minFreeBytes: gib(min)};
  if (freeBytes === undefined) return {status: 'skip', finding: `cannot tell the free space at ${path}`, data};
  const finding = `${formatBytes(freeBytes)} free at ${path}`;
  if (freeBytes < gib(min)) {
    return {status: 'warn', finding: `${finding} (want ≥ ${min} GiB for model weights)`, fix: 'free space there, or point HF_HUB_CACHE (or HF_HOME) at a disk with room', data};
  }
  return {status: 'pass', finding, data};
}

function timeVerdict(f: SystemFacts): CheckOutcome {
  if (f.timeSynced === undefined) return {status: 'skip', finding: 'cannot tell: neither timedatectl, chronyc nor ntpstat answered'};
  if (!f.timeSynced) {
    return {
      status: 'warn',
      finding: 'the clock is not synchronized (NTP)',
      fix: 'hosts of one deployment need agreeing clocks (leases, logs, metrics): timedatectl set-ntp true, or start chronyd',
      data: {timeSynced: false},
    };
  }
  return {status: 'pass', finding: 'synchronized (NTP)', data: {timeSynced: true}};
}

const systemCheck = (id: string, title: string, verdict: (f: SystemFacts, params: Record<string, unknown>) => CheckOutcome): Check => ({
  id: `system.${id}`,
  area: 'system',
  title,
  run: async (ctx: SanityContext) => verdict(await ctx.facts.system(), ctx.params),
});

export const systemChecks: Check[] = [
  systemCheck('os', 'Operating system', osVerdict),
  systemCheck('cpu', 'CPU', cpuVerdict),
  systemCheck('memory', 'Memory', memoryVerdict),
  systemCheck('shm', 'Shared memory (/dev/shm)', shmVerdict),
  systemCheck('limits', 'Resource limits', limitsVerdict),
  systemCheck('disk', 'Model cache disk', diskVerdict),
  systemCheck('time', 'Clock sync', timeVerdict),
];
