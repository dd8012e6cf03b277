/**
 * One-line answers about a box's GPUs, as pure functions of its `GpuTopology`; each returns the
 * `CheckOutcome` the gpu checks report (src/sanity/checks/gpu.ts).
 *
 * - topology: how the GPUs connect and where tensor parallelism stops being fast. NVLink cliques
 *   first (groups.ts); without NVLink, the CPU sockets the GPUs hang off (SYS in topo -m). A
 *   fact, so it passes; the deployment checks turn it into a warning when the plan's TP is larger.
 * - driver: the CUDA version the driver supports against the one the chosen engine's pinned version
 *   needs (src/sanity/engines.ts, overridable in the suite), with the first Linux driver that
 *   supports it; between the engine's minimum and the CUDA it is built with → warn (it runs by
 *   minor-version compatibility). The mocker needs no CUDA: `noCudaNeeded` says so, and what the
 *   real engines would need.
 * - MIG: on → warn (engines would see MIG slices, not whole GPUs).
 * - ECC: uncorrected errors since the driver loaded → fail; ECC off → warn; errors only in the
 *   lifetime count (already handled by row remapping or page retirement) are mentioned, not failed.
 * - devices: each GPU's free memory; a GPU that something else already holds (> `busyFraction`
 *   of its memory, default 5 %) → warn.
 */
import type {CheckOutcome} from '../check.js';
import type {CudaNeed} from '../engines.js';
import {nvlinkGroups, socketGroups} from './groups.js';
import type {GpuDevice, GpuTopology} from './topology.js';

export {bestTpGroups, nvlinkGroups, socketGroups, type TpGroup} from './groups.js';

/** The first Linux x86_64 driver of each CUDA toolkit's GA release (CUDA release notes, table 3). */
export const MIN_DRIVER_FOR_CUDA: Readonly<Record<string, string>> = {
  '11.0': '450.36.06',
  '11.1': '455.23',
  '11.2': '460.27.03',
  '11.3': '465.19.01',
  '11.4': '470.42.01',
  '11.5': '495.29.05',
  '11.6': '510.39.01',
  '11.7': '515.43.04',
  '11.8': '520.61.05',
  '12.0': '525.60.13',
  '12.1': '530.30.02',
  '12.2': '535.54.03',
  '12.3': '545.23.06',
  '12.4': '550.54.14',
  '12.5': '555.42.02',
  '12.6': '560.28.03',
  '12.8': '570.26',
  '12.9': '575.51.03',
  '13.0': '580.65.06',
};

/** "NVIDIA H100 80GB HBM3" → "H100 80GB HBM3". */
export function shortGpuName(name: string): string {
  return name.replace(/^NVIDIA\s+/, '');
}

/** "0-3" for consecutive indices, "0+2" otherwise. */
export function indexList(gpus: readonly number[]): string {
  const s = [...gpus].sort((a, b) => a - b);
  if (s.length === 1) return String(s[0]);
  const consecutive = s.every((v, k) => k === 0 || v === s[k - 1]! + 1);
  return consecutive ? `${s[0]}-${s[s.length - 1]}` : s.join('+');
}

function gib(mib: number, digits = 1): string {
  return (mib / 1024).toFixed(digits);
}

/** "8 × H100 80GB HBM3", "1 × L4 (23 GiB)" (memory when the name does not carry it), "3 GPUs (A, B)". */
export function describeGpus(gpus: readonly GpuDevice[]): string {
  const names = [...new Set(gpus.map((g) => shortGpuName(g.name)))];
  if (names.length !== 1) return `${gpus.length} GPUs (${names.join(', ')})`;
  const name = names[0]!;
  // Vendors label cards in whole GB rounded up (an L4's 23,034 MiB is sold as 24 GB); GiB, up.
  const memory = /\d+\s*GB/i.test(name) ? '' : ` (${Math.ceil(gpus[0]!.memory.totalMiB / 1024)} GiB)`;
  return `${gpus.length} × ${name}${memory}`;
}

function gpuRef(g: GpuDevice): string {
  return `GPU ${g.index} (${shortGpuName(g.name)}, ${g.pciBusId})`;
}

function linkCounts(t: GpuTopology): string {
  const counts = t.p2p.flatMap((row) => row.filter((l) => l.kind === 'nvlink').map((l) => l.nvlinks ?? 0));
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  if (lo <= 0) return 'NVLink';
  return lo === hi ? `NVLink (${lo} links)` : `NVLink (${lo}–${hi} links)`;
}

export function topologyVerdict(t: GpuTopology): CheckOutcome {
  const n = t.gpus.length;
  const model = describeGpus(t.gpus);
  if (n === 0) {
    return {
      status: 'fail',
      finding: `driver ${t.driverVersion} is loaded but lists no GPUs`,
      fix: 'run `nvidia-smi -L`; in a container, start it with the GPUs (docker run --gpus all)',
    };
  }
  const groups = nvlinkGroups(t);
  const sockets = socketGroups(t);
  const data = {nvlinkGroups: groups, socketGroups: sockets};
  if (n === 1) return {status: 'pass', finding: `${model}, no NVLink`, data};
  if (groups.length === 1) return {status: 'pass', finding: `${model}, all-to-all ${linkCounts(t)}`, data};

  const linked = groups.filter((g) => g.length > 1);
  const maxSocket = Math.max(...sockets.map((s) => s.length));
  if (linked.length) {
    const alone = groups.filter((g) => g.length === 1).flat();
    const sizes = new Set(linked.map((g) => g.length));
    const size = linked[0]!.length;
    const kind = alone.length || sizes.size > 1 ? 'NVLink groups' : size === 2 ? 'NVLink pairs' : `NVLink groups of ${size}`;
    const without = alone.length ? `, GPU ${alone.join(', ')} without NVLink` : '';
    const maxGroup = Math.max(...linked.map((g) => g.length));
    const crosses =
      maxSocket > maxGroup
        ? `crosses PCIe${sockets.length > 1 ? `, > ${maxSocket} the CPU interconnect` : ''}`
        : 'crosses the CPU interconnect';
    return {
      status: 'pass',
      finding: `${model} in ${kind} (${linked.map(indexList).join(', ')})${without}: tensor parallel > ${maxGroup} ${crosses}`,
      data,
    };
  }
  if (sockets.length > 1) {
    return {
      status: 'pass',
      finding: `${model} under ${sockets.length} CPU sockets (${sockets.map(indexList).join(' | ')}): tensor parallel > ${maxSocket} crosses the CPU interconnect`,
      data,
    };
  }
  return {status: 'pass', finding: `${model}, no NVLink: tensor parallel runs over PCIe`, data};
}

function parseVersion(v: string): [number, number] | undefined {
  const m = /^(\d+)(?:\.(\d+))?/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0)] : undefined;
}

function atLeast(v: [number, number], min: [number, number]): boolean {
  return v[0] !== min[0] ? v[0] > min[0] : v[1] >= min[1];
}

/** The first driver whose CUDA is at least `cuda`, from the table; undefined past its end. */
export function minDriverForCuda(cuda: string): string | undefined {
  const want = parseVersion(cuda);
  if (!want) return undefined;
  const hit = Object.entries(MIN_DRIVER_FOR_CUDA).find(([c]) => atLeast(parseVersion(c)!, want));
  return hit?.[1];
}

/** Who needs which CUDA: `neededBy` names them in the finding ("vLLM 0.33.0"). */
export interface CudaRequirement extends CudaNeed {
  neededBy: string;
}

/** The driver's CUDA against an engine's need: below `minCuda` fail, below `builtWith` warn, else pass. */
export function driverVerdict(t: GpuTopology, need: CudaRequirement): CheckOutcome {
  const {minCuda, builtWith, neededBy} = need;
  const want = parseVersion(minCuda);
  if (!want) throw new Error(`minCuda "${minCuda}" is not a CUDA version`);
  if (builtWith !== undefined && !parseVersion(builtWith)) throw new Error(`builtWith "${builtWith}" is not a CUDA version`);
  const have = parseVersion(t.cudaDriverVersion);
  const minDriver = minDriverForCuda(minCuda);
  const data = {driverVersion: t.driverVersion, cudaVersion: t.cudaDriverVersion, neededBy, minCuda, minDriver, ...(builtWith ? {builtWith} : {})};
  if (!have) {
    return {
      status: 'warn',
      finding: `driver ${t.driverVersion} does not say which CUDA it supports; ${neededBy} needs CUDA ≥ ${minCuda}`,
      fix: 'run `nvidia-smi` and read "CUDA Version" in its header',
      data,
    };
  }
  if (!atLeast(have, want)) {
    return {
      status: 'fail',
      finding: `driver ${t.driverVersion} supports CUDA ${t.cudaDriverVersion}; ${neededBy} needs CUDA ≥ ${minCuda}`,
      fix: upgradeTo(minCuda),
      data,
    };
  }
  if (builtWith && !atLeast(have, parseVersion(builtWith)!)) {
    // CUDA minor-version compatibility: code built with 13.2 runs on a 13.0 driver, PTX it JIT-compiles does not.
    const [major, minor] = parseVersion(builtWith)!;
    return {
      status: 'warn',
      finding: `driver ${t.driverVersion} supports CUDA ${t.cudaDriverVersion}; ${neededBy} is built with CUDA ${builtWith}: it runs by minor-version compatibility, but kernels it compiles at run time need CUDA ${builtWith}`,
      fix: `${upgradeTo(builtWith)}, or install cuda-compat-${major}-${minor} (CUDA forward compatibility, data-center GPUs)`,
      data,
    };
  }
  return {status: 'pass', finding: `driver ${t.driverVersion} supports CUDA ${t.cudaDriverVersion} (${neededBy} needs ≥ ${minCuda})`, data};
}

function upgradeTo(cuda: string): string {
  const driver = minDriverForCuda(cuda);
  return driver ? `upgrade the NVIDIA driver to ≥ ${driver} (the first with CUDA ${cuda})` : `upgrade the NVIDIA driver to a release that supports CUDA ${cuda}`;
}

/**
 * Nothing here needs CUDA (`why`: "the mocker needs no CUDA"; a host that runs no worker): nothing
 * to judge, so skip, saying what the driver supports against what the real engines would need
 * (`realNeeds`: minimum CUDA by engine name).
 */
export function noCudaNeeded(t: GpuTopology, why: string, realNeeds: Readonly<Record<string, string>>): CheckOutcome {
  const mins = [...new Set(Object.values(realNeeds))];
  const engines = Object.entries(realNeeds)
    .map(([name, min]) => (mins.length === 1 ? name : `${name} ≥ ${min}`))
    .join(', ')
    .replace(/, ([^,]*)$/, ' and $1');
  const need = mins.length === 1 ? `${engines} need ≥ ${mins[0]}` : `${engines}`;
  const supports = t.cudaDriverVersion ? `driver ${t.driverVersion} supports CUDA ${t.cudaDriverVersion}` : `driver ${t.driverVersion}`;
  return {
    status: 'skip',
    finding: `${why}; ${supports} (${need})`,
    data: {driverVersion: t.driverVersion, cudaVersion: t.cudaDriverVersion, realEngines: realNeeds},
  };
}

export function migVerdict(t: GpuTopology): CheckOutcome {
  const on = t.gpus.filter((g) => g.mig === 'enabled');
  if (on.length) {
    const ids = on.map((g) => g.index).join(',');
    return {
      status: 'warn',
      finding: `MIG is on for GPU ${on.map((g) => g.index).join(', ')}: engines see MIG slices, not whole GPUs`,
      fix: `turn MIG off (sudo nvidia-smi -i ${ids} -mig 0, then reset the GPU) or deploy onto the MIG devices by UUID (nvidia-smi -L)`,
      data: {migGpus: on.map((g) => g.index)},
    };
  }
  const capable = t.gpus.some((g) => g.mig === 'disabled');
  return {status: 'pass', finding: capable ? 'MIG is off' : 'MIG is not available on these GPUs', data: {migGpus: []}};
}

export function eccVerdict(t: GpuTopology): CheckOutcome {
  const failing = t.gpus.filter((g) => (g.ecc?.volatileUncorrected ?? 0) > 0);
  const off = t.gpus.filter((g) => g.ecc?.mode === 'disabled');
  const onRecord = t.gpus.filter((g) => (g.ecc?.volatileUncorrected ?? 0) === 0 && (g.ecc?.aggregateUncorrected ?? 0) > 0);
  const data = {
    uncorrected: t.gpus.map((g) => ({gpu: g.index, volatile: g.ecc?.volatileUncorrected, aggregate: g.ecc?.aggregateUncorrected})),
    eccOff: off.map((g) => g.index),
  };
  const offLine = off.length ? `ECC is off on GPU ${indexList(off.map((g) => g.index))}: memory errors go unnoticed` : '';
  if (failing.length) {
    const ids = failing.map((g) => g.index).join(',');
    const counts = failing.map((g) => {
      const k = g.ecc!.volatileUncorrected!;
      return `${gpuRef(g)} has ${k} uncorrected ECC error${k === 1 ? '' : 's'} since the driver loaded`;
    });
    return {
      status: 'fail',
      finding: [...counts, offLine].filter(Boolean).join('; '),
      fix: `drain GPU ${ids} and reset it (sudo nvidia-smi -r -i ${ids}) or reboot; if errors come back, the GPU needs service`,
      data,
    };
  }
  if (off.length) {
    return {
      status: 'warn',
      finding: offLine,
      fix: `turn ECC on (sudo nvidia-smi -i ${off.map((g) => g.index).join(',')} -e 1) and reboot`,
      data,
    };
  }
  if (!t.gpus.some((g) => g.ecc?.mode === 'enabled')) return {status: 'pass', finding: 'ECC is not available on these GPUs', data};
  const record = onRecord.map((g) => `GPU ${g.index}: ${g.ecc!.aggregateUncorrected} on record`).join(', ');
  return {status: 'pass', finding: `ECC on, no uncorrected errors since the driver loaded${record ? ` (${record})` : ''}`, data};
}

export function devicesVerdict(t: GpuTopology, busyFraction = 0.05): CheckOutcome {
  const devices = t.gpus.map((g) => ({
    index: g.index,
    name: g.name,
    uuid: g.uuid,
    pciBusId: g.pciBusId,
    totalMiB: g.memory.totalMiB,
    freeMiB: g.memory.freeMiB,
    usedMiB: g.memory.usedMiB,
    ...(g.numaNode !== undefined && {numaNode: g.numaNode}),
  }));
  if (!t.gpus.length) return {status: 'fail', finding: 'no GPUs', data: {devices}};
  const frees = t.gpus.map((g) => g.memory.freeMiB);
  const lo = Math.min(...frees);
  const hi = Math.max(...frees);
  const free = lo === hi ? `${gib(lo)} GiB free${t.gpus.length > 1 ? ' each' : ''}` : `${gib(lo)}–${gib(hi)} GiB free`;
  const busy = t.gpus.filter((g) => g.memory.totalMiB > 0 && g.memory.usedMiB / g.memory.totalMiB > busyFraction);
  if (busy.length) {
    const held = busy.map((g) => `GPU ${g.index} has ${gib(g.memory.usedMiB)} of ${gib(g.memory.totalMiB)} GiB in use`).join(', ');
    return {
      status: 'warn',
      finding: `${describeGpus(t.gpus)}, ${free}; ${held}`,
      fix: `see who holds it (nvidia-smi --query-compute-apps=gpu_bus_id,pid,process_name,used_memory --format=csv) and stop it, or leave GPU ${busy.map((g) => g.index).join(',')} out with CUDA_VISIBLE_DEVICES`,
      data: {devices},
    };
  }
  return {status: 'pass', finding: `${describeGpus(t.gpus)}, ${free}`, data: {devices}};
}

/** One GPU's copy bandwidth (src/native/gpu.ts `gpuBandwidth`), by CUDA device ordinal. */
export type BandwidthSample = {ordinal: number} & ({ok: true; h2dGBps: number; d2dGBps: number} | {ok: false; error: string});

/**
 * Host→device bandwidth under `minH2DGBps` (default 10 GB/s: PCIe 3.0 x16 gives about 12, so
 * less means a narrowed or downgraded link, or a GPU behind the wrong socket) → warn; a copy that
 * failed → fail.
 */
export function bandwidthVerdict(samples: readonly BandwidthSample[], minH2DGBps = 10): CheckOutcome {
  const data = {samples, minH2DGBps};
  const failed = samples.filter((s): s is Extract<BandwidthSample, {ok: false}> => !s.ok);
  if (failed.length) {
    return {
      status: 'fail',
      finding: failed.map((s) => `CUDA device ${s.ordinal}: ${s.error}`).join('; '),
      fix: 'run a CUDA sample (nvbandwidth or bandwidthTest) on that GPU; a CUDA error here stops every engine too',
      data,
    };
  }
  const ok = samples.filter((s): s is Extract<BandwidthSample, {ok: true}> => s.ok);
  if (!ok.length) return {status: 'skip', finding: 'no GPU to measure', data};
  const range = (xs: number[]) => {
    const lo = Math.min(...xs).toFixed(1);
    const hi = Math.max(...xs).toFixed(1);
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const summary = `host→device ${range(ok.map((s) => s.h2dGBps))} GB/s, device→device ${range(ok.map((s) => s.d2dGBps))} GB/s`;
  const slow = ok.filter((s) => s.h2dGBps < minH2DGBps);
  if (slow.length) {
    return {
      status: 'warn',
      finding: `${summary}; CUDA device ${slow.map((s) => s.ordinal).join(', ')} below ${minH2DGBps} GB/s from the host`,
      fix: 'check the PCIe link (nvidia-smi -q -d PCI: current vs max generation and width) and which CPU the process runs on (nvidia-smi topo -m)',
      data,
    };
  }
  return {status: 'pass', finding: summary, data};
}
