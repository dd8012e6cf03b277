/**
 * NVML's answer (the native addon's `gpuProbe().nvml`) as the GpuTopology every sanity verdict
 * reads. Pure, so it is tested on NVML-shaped fixtures (test/fixtures/gpu/nvml/).
 *
 * How GPU i reaches GPU j, p2p[i][j], by the first rule that applies:
 *   1. i = j: 'self'.
 *   2. Active NVLinks of i whose far end is j: 'nvlink', nvlinks = their number (a bridge, or GPUs
 *      wired to each other on the board).
 *   3. Both i and j have active NVLinks to NVSwitches: 'nvlink', nvlinks = i's switch links. A
 *      switch fabric joins every GPU on it to every other at the full width of its links, which is
 *      what nvidia-smi topo -m prints (NV18 on HGX H100).
 *   4. Their closest common PCIe ancestor (nvmlDeviceGetTopologyCommonAncestor): the GPU's own
 *      board, one or several PCIe switches → 'pcie-switch'; a host bridge, or host bridges within a
 *      NUMA node → 'host-bridge'; the link between CPU sockets → 'cross-socket'. Should NVML not
 *      say, different NUMA nodes → 'cross-socket', else 'host-bridge'.
 * A link counts as going to a switch when NVML says so, or, on drivers without
 * nvmlDeviceGetNvLinkRemoteDeviceType, when its far end is none of the GPUs.
 *
 * Whether NVML can be used at all: a library that cannot be opened, or a driver whose kernel
 * module is not loaded, is 'no-driver' (a value: the machine simply has no NVIDIA driver); any
 * other failure, including a GPU NVML cannot open ("GPU is lost"), is 'error'.
 */
import type {RawNvLink, RawNvml, RawNvmlDevice, RawNvmlPair} from '../../native/index.cjs';
import {normalizePciBusId} from './pci.js';
import type {GpuDevice, GpuProbe, GpuTopology, NvLink, P2PKind, P2PLink} from './topology.js';

export type RawNvmlLoaded = Extract<RawNvml, {loaded: true}>;

/** nvmlGpuTopologyLevel_t */
export const TOPOLOGY_LEVEL = {internal: 0, single: 10, multiple: 20, hostBridge: 30, node: 40, system: 50} as const;

/** nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED: the library is installed but the kernel module is not loaded. */
const NVML_ERROR_DRIVER_NOT_LOADED = 9;

/** nvmlNvlinkVersion_t → NVLink generation (1.0, 2.0 and 2.2, 3.0 and 3.1, 4.0, 5.0, 6.0). */
const NVLINK_GENERATION: Record<number, number> = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 4, 7: 5, 8: 6};

/**
 * The newest NVLink each architecture has, by compute capability major (Pascal 1 … Blackwell 5).
 * Some drivers report NVLink 5.0 for H100's 4.0 links (seen by pynvml users), so a generation is
 * never taken to be newer than the GPU's.
 */
const NVLINK_GENERATION_MAX: Record<number, number> = {6: 1, 7: 2, 8: 3, 9: 4, 10: 5};

const MiB = 1024 * 1024;

/** The probe result for NVML's answer: the topology, 'no-driver', or 'error' with NVML's reason. */
export function nvmlToProbe(raw: RawNvml): GpuProbe {
  if (!raw.loaded) {
    const noDriver = /cannot open shared object file/i.test(raw.error) || raw.code === NVML_ERROR_DRIVER_NOT_LOADED;
    return noDriver ? {state: 'no-driver', reason: raw.error} : {state: 'error', reason: raw.error};
  }
  const lost = raw.devices.find((d) => d.error !== undefined);
  if (lost) return {state: 'error', reason: `GPU ${lost.index}: ${lost.error}`};
  return {state: 'ok', topology: nvmlToTopology(raw)};
}

/** The topology NVML describes (every device opened; nvmlToProbe checks that first). */
export function nvmlToTopology(raw: RawNvmlLoaded): GpuTopology {
  const gpus = raw.devices.map(toDevice);
  return {
    source: 'nvml',
    driverVersion: raw.driverVersion ?? '',
    cudaDriverVersion: raw.cudaDriverVersion === undefined ? '' : cudaVersion(raw.cudaDriverVersion),
    gpus,
    p2p: p2pMatrix(raw.devices, raw.pairs),
  };
}

/** 12040 → "12.4" (CUDA's 1000 × major + 10 × minor). */
export function cudaVersion(version: number): string {
  return `${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)}`;
}

function toDevice(d: RawNvmlDevice): GpuDevice {
  const memory = d.memory ?? {total: 0, used: 0, free: 0};
  const cc = d.computeCapability;
  const power = compact({drawW: milli(d.powerDrawMw), limitW: milli(d.powerLimitMw)});
  const clocks = compact({smMHz: d.clocks?.sm, memMHz: d.clocks?.mem, maxSmMHz: d.clocks?.maxSm});
  return compact({
    index: d.index,
    name: d.name ?? '',
    uuid: d.uuid ?? '',
    pciBusId: normalizePciBusId(d.pciBusId ?? ''),
    memory: {totalMiB: Math.floor(memory.total / MiB), usedMiB: Math.floor(memory.used / MiB), freeMiB: Math.floor(memory.free / MiB)},
    computeCapability: cc ? `${cc[0]}.${cc[1]}` : undefined,
    mig: d.migMode === undefined ? 'unsupported' : d.migMode === 1 ? 'enabled' : 'disabled',
    ecc: compact({
      mode: d.eccMode === undefined ? 'unsupported' : d.eccMode === 1 ? 'enabled' : 'disabled',
      volatileUncorrected: d.eccVolatileUncorrected,
      aggregateUncorrected: d.eccAggregateUncorrected,
    } as const),
    persistenceMode: d.persistenceMode,
    power: Object.keys(power).length ? power : undefined,
    clocks: Object.keys(clocks).length ? clocks : undefined,
    numaNode: d.numaNode,
    nvlinks: d.nvlinks.map((l) => toNvLink(l, cc?.[0])),
  });
}

function toNvLink(l: RawNvLink, ccMajor: number | undefined): NvLink {
  const generation = l.version === undefined ? undefined : NVLINK_GENERATION[l.version];
  const newest = ccMajor === undefined ? undefined : NVLINK_GENERATION_MAX[ccMajor];
  return compact({
    link: l.link,
    active: l.active,
    version: generation !== undefined && newest !== undefined ? Math.min(generation, newest) : generation,
    remotePciBusId: l.remotePciBusId === undefined ? undefined : normalizePciBusId(l.remotePciBusId),
  });
}

function p2pMatrix(devices: RawNvmlDevice[], pairs: RawNvmlPair[]): P2PLink[][] {
  const busIds = devices.map((d) => normalizePciBusId(d.pciBusId ?? ''));
  const gpuBusIds = new Set(busIds);
  const active = devices.map((d) => d.nvlinks.filter((l) => l.active));
  const toSwitch = (l: RawNvLink) => l.remoteIsSwitch ?? (l.remotePciBusId !== undefined && !gpuBusIds.has(normalizePciBusId(l.remotePciBusId)));
  const switchLinks = active.map((links) => links.filter(toSwitch).length);
  const pairOf = new Map(pairs.map((p) => [`${Math.min(p.i, p.j)},${Math.max(p.i, p.j)}`, p]));

  const link = (i: number, j: number): P2PLink => {
    if (i === j) return {kind: 'self'};
    const direct = active[i]!.filter((l) => !toSwitch(l) && l.remotePciBusId !== undefined && normalizePciBusId(l.remotePciBusId) === busIds[j]).length;
    if (direct > 0) return {kind: 'nvlink', nvlinks: direct};
    if (switchLinks[i]! > 0 && switchLinks[j]! > 0) return {kind: 'nvlink', nvlinks: switchLinks[i]!};
    const level = pairOf.get(`${Math.min(i, j)},${Math.max(i, j)}`)?.commonAncestor;
    return {kind: level === undefined ? byNuma(devices[i]!, devices[j]!) : pcieKind(level)};
  };
  return devices.map((_, i) => devices.map((_, j) => link(i, j)));
}

/** The P2P kind for an nvmlGpuTopologyLevel_t. */
export function pcieKind(level: number): P2PKind {
  if (level <= TOPOLOGY_LEVEL.multiple) return 'pcie-switch';
  if (level <= TOPOLOGY_LEVEL.node) return 'host-bridge';
  return 'cross-socket';
}

function byNuma(a: RawNvmlDevice, b: RawNvmlDevice): P2PKind {
  return a.numaNode !== undefined && b.numaNode !== undefined && a.numaNode !== b.numaNode ? 'cross-socket' : 'host-bridge';
}

function milli(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value / 1000;
}

/** `o` without its undefined properties (JSON output and deep equality alike). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
