/**
 * The machine as the system checks judge it (`SystemFacts`), read once per run, straight from
 * Linux: the distro from /etc/os-release, kernel, arch and host name from node:os, CPU model and
 * sockets from /proc/cpuinfo (model name, physical ids), NUMA nodes from /sys/devices/system/node,
 * memory from /proc/meminfo (MemAvailable, what the kernel says can be had without swapping),
 * limits from /proc/self/limits (this process's soft limits are what `dynamo up`'s children
 * inherit), /dev/shm and the model cache's free space from statfs, and clock sync from whichever
 * of timedatectl, chronyc or ntpstat answers.
 *
 * Not systeminformation: its osInfo and cpu shell out (`hostname -f` and `date` blocking, `dmesg`,
 * `lscpu`, `dmidecode`), so osInfo + cpu + mem + fsSize took 310–390 ms on a two-core VM
 * (docs/sanity.md has the figures) against 2–5 ms for reading these files: a sixth of the two-second
 * budget for the same facts. Parsers are pure and tested on recorded text; a read that fails degrades to "unknown"
 * rather than throwing.
 */
import {existsSync, readFileSync, readdirSync, statfsSync} from 'node:fs';
import {arch, availableParallelism, freemem, homedir, hostname, release, totalmem} from 'node:os';
import {dirname, join} from 'node:path';
import type {CommandResult, SystemFacts} from '../check.js';

/** SystemFacts plus what the contract does not carry yet: the container we run in, if any. */
export type MachineFacts = SystemFacts & {os: SystemFacts['os'] & {container?: string}};

type Run = (command: string, args: string[], timeoutMs?: number) => Promise<CommandResult>;

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** NAME and VERSION_ID of /etc/os-release ("Ubuntu", "22.04"); PRETTY_NAME's words when NAME is missing. */
export function parseOsRelease(text: string): {distro: string; release: string} {
  const fields = new Map<string, string>();
  for (const m of text.matchAll(/^([A-Z_]+)=(.*)$/gm)) fields.set(m[1]!, m[2]!.trim().replace(/^(["'])(.*)\1$/, '$2'));
  return {distro: fields.get('NAME') ?? fields.get('PRETTY_NAME') ?? 'Linux', release: fields.get('VERSION_ID') ?? ''};
}

/** The CPU's name from /proc/cpuinfo: "model name" on x86, else "Hardware"/"cpu model"; undefined when absent (most ARM). */
export function parseCpuModel(cpuinfo: string): string | undefined {
  const m = /^(?:model name|Hardware|cpu model)\s*:\s*(.+)$/m.exec(cpuinfo);
  return m?.[1]?.replace(/\s+/g, ' ').trim();
}

/** MemTotal and MemAvailable of /proc/meminfo, in bytes (the file counts kB = KiB). */
export function parseMeminfo(text: string): {totalBytes?: number; availableBytes?: number} {
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  return {totalBytes: kib('MemTotal'), availableBytes: kib('MemAvailable')};
}

/** Sockets = distinct "physical id" lines; machines that print none (many ARM boards, some VMs) have one. */
export function countSockets(cpuinfo: string): number {
  const ids = new Set([...cpuinfo.matchAll(/^physical id\s*:\s*(\d+)/gm)].map((m) => m[1]));
  return Math.max(1, ids.size);
}

/** NUMA nodes = node<N> entries of /sys/devices/system/node; none (no NUMA support) = one. */
export function countNumaNodes(entries: readonly string[]): number {
  return Math.max(1, entries.filter((e) => /^node\d+$/.test(e)).length);
}

/** Soft limits from /proc/<pid>/limits; null = unlimited, undefined = the line is missing. */
export function parseLimits(text: string): {openFiles?: number | null; lockedMemoryBytes?: number | null} {
  const soft = (name: string): number | null | undefined => {
    const m = new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text);
    if (!m) return undefined;
    return m[1] === 'unlimited' ? null : Number(m[1]);
  };
  return {openFiles: soft('Max open files'), lockedMemoryBytes: soft('Max locked memory')};
}

/** Whether `mountPoint` is a mount in /proc/self/mounts (a plain /dev/shm directory is not shm). */
export function isMounted(mounts: string, mountPoint: string): boolean {
  return mounts.split('\n').some((l) => l.split(' ')[1] === mountPoint);
}

/** Where huggingface_hub caches models, by its own precedence. */
export function modelCachePath(env: NodeJS.ProcessEnv, home: string): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'huggingface', 'hub');
}

export interface ContainerSigns {
  dockerenv: boolean;
  containerenv: boolean;
  /** /proc/1/cgroup */
  cgroup?: string;
  /** The `container` variable (systemd-nspawn, podman, LXC set it). */
  containerVar?: string;
}

/** The container runtime we run under, or undefined on a host. */
export function detectContainer(s: ContainerSigns): string | undefined {
  if (s.dockerenv) return 'docker';
  if (s.containerenv) return 'podman';
  const m = s.cgroup && /\b(docker|containerd|kubepods|podman|lxc|crio)\b/.exec(s.cgroup);
  if (m) return m[1] === 'kubepods' ? 'kubernetes' : m[1];
  if (s.containerVar) return s.containerVar;
  return undefined;
}

/** NTP sync from the first tool that can tell: timedatectl (systemd), chronyc, ntpstat; undefined when none can. */
export async function probeTimeSync(run: Run): Promise<boolean | undefined> {
  const td = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  if (td.ok && td.code === 0 && /^(yes|no)$/.test(td.stdout.trim())) return td.stdout.trim() === 'yes';
  const chrony = await run('chronyc', ['tracking']);
  if (chrony.ok && chrony.code === 0) {
    const leap = /^Leap status\s*:\s*(.+)$/m.exec(chrony.stdout)?.[1]?.trim();
    if (leap) return leap !== 'Not synchronised';
  }
  const ntp = await run('ntpstat', []);
  // ntpstat: 0 synchronised, 1 not, 2 cannot tell.
  if (ntp.ok && (ntp.code === 0 || ntp.code === 1)) return ntp.code === 0;
  return undefined;
}

function statfsOf(path: string): {totalBytes: number; freeBytes: number} | undefined {
  try {
    const s = statfsSync(path);
    return {totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize};
  } catch {
    return undefined;
  }
}

/** Free space where `path` is or would be created (its nearest existing ancestor). */
function freeBytesAt(path: string): number | undefined {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return statfsOf(p)?.freeBytes;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface ProbeSystemOptions {
  run: Run;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** Reads this machine's facts; the clock tools, the only slow part, run while the files are read. */
export async function probeSystem(opts: ProbeSystemOptions): Promise<MachineFacts> {
  const env = opts.env ?? process.env;
  // The clock tools are the only slow part: start them first, read the files meanwhile.
  const timeSync = probeTimeSync(opts.run);
  const osRelease = parseOsRelease(read('/etc/os-release') ?? read('/usr/lib/os-release') ?? '');
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const mem = parseMeminfo(read('/proc/meminfo') ?? '');
  const limits = parseLimits(read('/proc/self/limits') ?? '');
  const modelCache = modelCachePath(env, opts.home ?? homedir());
  const mounts = read('/proc/self/mounts') ?? '';
  const container = detectContainer({
    dockerenv: existsSync('/.dockerenv'),
    containerenv: existsSync('/run/.containerenv'),
    cgroup: read('/proc/1/cgroup'),
    containerVar: env.container,
  });
  return {
    os: {...osRelease, kernel: release(), arch: arch(), hostname: hostname(), ...(container ? {container} : {})},
    cpu: {
      model: parseCpuModel(cpuinfo) ?? '',
      // The CPUs this process may run on (a container's cpuset included).
      cores: availableParallelism(),
      sockets: countSockets(cpuinfo),
      numaNodes: countNumaNodes(listDir('/sys/devices/system/node')),
    },
    // node:os as the fallback (no /proc/meminfo off Linux; no MemAvailable before kernel 3.14).
    memory: {totalBytes: mem.totalBytes ?? totalmem(), availableBytes: mem.availableBytes ?? freemem()},
    shm: isMounted(mounts, '/dev/shm') ? statfsOf('/dev/shm') : undefined,
    // A missing line (not Linux) reads as unlimited: nothing to fix that we can see.
    limits: {openFiles: limits.openFiles ?? null, lockedMemoryBytes: limits.lockedMemoryBytes ?? null},
    modelCache: {path: modelCache, freeBytes: freeBytesAt(modelCache)},
    timeSynced: await timeSync,
  };
}
