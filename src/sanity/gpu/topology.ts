/**
 * One machine's GPUs as every sanity verdict sees them, whichever way they were read: NVML through
 * the native module (`src/native/gpu.ts`) or `nvidia-smi -q -x` + `nvidia-smi topo -m` when NVML
 * cannot load. Both sources produce this object, so every verdict is written once.
 */

/** How two GPUs reach each other, best first (nvidia-smi topo -m's legend in brackets). */
export type P2PKind =
  | 'self' // X
  | 'nvlink' // NV# (a bonded set of # links)
  | 'pcie-switch' // PIX, PXB: through PCIe switches, not the host bridge
  | 'host-bridge' // PHB, NODE: through a PCIe host bridge (the CPU), within one NUMA node
  | 'cross-socket'; // SYS: across the SMP interconnect between CPU sockets (QPI/UPI/xGMI)

export interface P2PLink {
  kind: P2PKind;
  /** NVLink links bonded between the pair (kind 'nvlink' only). */
  nvlinks?: number;
}

export interface NvLink {
  link: number;
  active: boolean;
  /** NVLink generation (e.g. 4 on H100). */
  version?: number;
  /** PCI bus id of the device at the other end (a GPU, or an NVSwitch). */
  remotePciBusId?: string;
}

export interface GpuDevice {
  index: number;
  name: string;
  uuid: string;
  /** Normalized "0000:18:00.0" (NVML's 8-hex-digit domain shortened to 4). */
  pciBusId: string;
  memory: {totalMiB: number; usedMiB: number; freeMiB: number};
  /** "9.0" */
  computeCapability?: string;
  mig?: 'enabled' | 'disabled' | 'unsupported';
  ecc?: {mode: 'enabled' | 'disabled' | 'unsupported'; volatileUncorrected?: number; aggregateUncorrected?: number};
  persistenceMode?: boolean;
  power?: {drawW?: number; limitW?: number};
  clocks?: {smMHz?: number; memMHz?: number; maxSmMHz?: number};
  /** NUMA node of the GPU's PCIe root (-1 or undefined when unknown). */
  numaNode?: number;
  nvlinks: NvLink[];
}

export interface GpuTopology {
  source: 'nvml' | 'nvidia-smi';
  /** "550.54.15" */
  driverVersion: string;
  /** The newest CUDA the driver supports, "12.4". */
  cudaDriverVersion: string;
  gpus: GpuDevice[];
  /** p2p[i][j]: how GPU i reaches GPU j (indices into `gpus`); p2p[i][i] is 'self'. */
  p2p: P2PLink[][];
}

/** What probing the GPUs gave: a topology, no driver at all (a value, not an error), or a failure. */
export type GpuProbe =
  | {state: 'ok'; topology: GpuTopology}
  | {state: 'no-driver'; reason: string}
  | {state: 'error'; reason: string};
