import {describe, expect, it} from 'vitest';
import type {CommandResult} from '../check.js';
import {countNumaNodes, countSockets, detectContainer, isMounted, modelCachePath, parseCpuModel, parseLimits, parseMeminfo, parseOsRelease, probeTimeSync} from './system.js';

// Recorded on a two-socket Xeon (cpuinfo trimmed to the lines that matter) and on this VM.
const CPUINFO_2S = ['processor\t: 0', 'physical id\t: 0', 'core id\t\t: 0', '', 'processor\t: 1', 'physical id\t: 1', 'core id\t\t: 0', '', 'processor\t: 2', 'physical id\t: 0', 'core id\t\t: 1', ''].join('\n');
const CPUINFO_ARM = ['processor\t: 0', 'BogoMIPS\t: 50.00', 'CPU implementer\t: 0x41', '', 'processor\t: 1', 'BogoMIPS\t: 50.00', ''].join('\n');

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max stack size            8388608              unlimited            bytes     
Max processes             96364                96364                processes 
Max open files            20000                1048576              files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
`;
const LIMITS_UNLIMITED = LIMITS.replace('Max locked memory         8388608', 'Max locked memory         unlimited');

const MOUNTS = `overlay / overlay rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0
`;

const OS_RELEASE_UBUNTU = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
ID=ubuntu
`;
const OS_RELEASE_ALPINE = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
`;
const CPUINFO_XEON = 'processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480C\nphysical id\t: 0\n';
const MEMINFO = 'MemTotal:       24683620 kB\nMemFree:        23262660 kB\nMemAvailable:   24033956 kB\nBuffers:            6988 kB\n';

describe('system facts parsers', () => {
  it('reads the distro and its version from /etc/os-release, quoted or not', () => {
    expect(parseOsRelease(OS_RELEASE_UBUNTU)).toEqual({distro: 'Ubuntu', release: '22.04'});
    expect(parseOsRelease(OS_RELEASE_ALPINE)).toEqual({distro: 'Alpine Linux', release: '3.19.1'});
    expect(parseOsRelease('')).toEqual({distro: 'Linux', release: ''});
  });

  it('reads the CPU model from /proc/cpuinfo, and nothing where it has none', () => {
    expect(parseCpuModel(CPUINFO_XEON)).toBe('Intel(R) Xeon(R) Platinum 8480C');
    expect(parseCpuModel(CPUINFO_ARM)).toBeUndefined();
  });

  it('reads total and available memory from /proc/meminfo in bytes', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({totalBytes: 24683620 * 1024, availableBytes: 24033956 * 1024});
    expect(parseMeminfo('MemTotal: 1024 kB\n')).toEqual({totalBytes: 1024 * 1024, availableBytes: undefined});
  });

  it('counts CPU sockets by distinct physical id, and one socket when cpuinfo has none (ARM)', () => {
    expect(countSockets(CPUINFO_2S)).toBe(2);
    expect(countSockets(CPUINFO_ARM)).toBe(1);
    expect(countSockets('')).toBe(1);
  });

  it('counts NUMA nodes from /sys/devices/system/node, ignoring its other entries', () => {
    expect(countNumaNodes(['has_cpu', 'has_memory', 'node0', 'node1', 'online', 'possible', 'power', 'uevent'])).toBe(2);
    expect(countNumaNodes([])).toBe(1);
  });

  it('reads soft limits of open files and locked memory; "unlimited" is null', () => {
    expect(parseLimits(LIMITS)).toEqual({openFiles: 20000, lockedMemoryBytes: 8388608});
    expect(parseLimits(LIMITS_UNLIMITED)).toEqual({openFiles: 20000, lockedMemoryBytes: null});
    expect(parseLimits('')).toEqual({openFiles: undefined, lockedMemoryBytes: undefined});
  });

  it('tells a mounted /dev/shm from a plain directory', () => {
    expect(isMounted(MOUNTS, '/dev/shm')).toBe(true);
    expect(isMounted(MOUNTS.replace(/^shm .*$/m, ''), '/dev/shm')).toBe(false);
  });

  it('finds the model cache the way huggingface_hub does', () => {
    expect(modelCachePath({HF_HUB_CACHE: '/data/hub', HF_HOME: '/x'}, '/home/u')).toBe('/data/hub');
    expect(modelCachePath({HF_HOME: '/data/hf'}, '/home/u')).toBe('/data/hf/hub');
    expect(modelCachePath({XDG_CACHE_HOME: '/c'}, '/home/u')).toBe('/c/huggingface/hub');
    expect(modelCachePath({}, '/home/u')).toBe('/home/u/.cache/huggingface/hub');
  });

  it('detects the container runtime from its marks', () => {
    const none = {dockerenv: false, containerenv: false};
    expect(detectContainer(none)).toBeUndefined();
    expect(detectContainer({...none, cgroup: '0::/init.scope\n'})).toBeUndefined();
    expect(detectContainer({...none, dockerenv: true})).toBe('docker');
    expect(detectContainer({...none, containerenv: true})).toBe('podman');
    expect(detectContainer({...none, cgroup: '12:pids:/kubepods/burstable/pod1234/abcd\n'})).toBe('kubernetes');
    expect(detectContainer({...none, cgroup: '0::/system.slice/containerd.service\n'})).toBe('containerd');
    expect(detectContainer({...none, containerVar: 'systemd-nspawn'})).toBe('systemd-nspawn');
  });
});

/** A `run` that answers from a table of recorded outputs; a program not in it is missing. */
function recorded(answers: Record<string, Partial<CommandResult>>) {
  const calls: string[] = [];
  const run = async (command: string, args: string[]): Promise<CommandResult> => {
    const line = [command, ...args].join(' ');
    calls.push(line);
    const a = answers[line];
    return a ? {ok: true, code: 0, stdout: '', stderr: '', ...a} : {ok: false, code: null, stdout: '', stderr: `spawn ${command} ENOENT`};
  };
  return {run, calls};
}

const TIMEDATECTL = 'timedatectl show -p NTPSynchronized --value';
const CHRONY_SYNCED = `Reference ID    : A9FEA97B (169.254.169.123)
Stratum         : 4
System time     : 0.000012 seconds fast of NTP time
Leap status     : Normal
`;

describe('clock sync', () => {
  it('believes timedatectl first', async () => {
    expect(await probeTimeSync(recorded({[TIMEDATECTL]: {stdout: 'yes\n'}}).run)).toBe(true);
    const {run, calls} = recorded({[TIMEDATECTL]: {stdout: 'no\n'}, 'chronyc tracking': {stdout: CHRONY_SYNCED}});
    expect(await probeTimeSync(run)).toBe(false);
    expect(calls).toEqual([TIMEDATECTL]);
  });

  it('asks chronyc when timedatectl cannot answer (no systemd, as in containers)', async () => {
    const noSystemd = {code: 1, stderr: 'System has not been booted with systemd as init system (PID 1). Can\'t operate.\n'};
    expect(await probeTimeSync(recorded({[TIMEDATECTL]: noSystemd, 'chronyc tracking': {stdout: CHRONY_SYNCED}}).run)).toBe(true);
    const unsynced = CHRONY_SYNCED.replace('Leap status     : Normal', 'Leap status     : Not synchronised');
    expect(await probeTimeSync(recorded({[TIMEDATECTL]: noSystemd, 'chronyc tracking': {stdout: unsynced}}).run)).toBe(false);
  });

  it('falls back to ntpstat, whose exit code is the answer, and to "cannot tell"', async () => {
    expect(await probeTimeSync(recorded({ntpstat: {code: 0, stdout: 'synchronised to NTP server (10.0.0.1) at stratum 3\n'}}).run)).toBe(true);
    expect(await probeTimeSync(recorded({ntpstat: {code: 1, stdout: 'unsynchronised\n'}}).run)).toBe(false);
    expect(await probeTimeSync(recorded({ntpstat: {code: 2}}).run)).toBeUndefined();
    expect(await probeTimeSync(recorded({}).run)).toBeUndefined();
  });
});
