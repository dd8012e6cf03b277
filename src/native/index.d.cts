/** One NVLink of a GPU as NVML reports it; links the GPU does not have are left out. */
export interface RawNvLink {
  link: number;
  active: boolean;
  /** nvmlDeviceGetNvLinkVersion: an nvmlNvlinkVersion_t (6 = NVLink 4.0), not the generation itself. Active links only. */
  version?: number;
  /** NVML's form, "00000000:18:00.0". Active links only. */
  remotePciBusId?: string;
  /** The far end is an NVSwitch (nvmlDeviceGetNvLinkRemoteDeviceType); absent on drivers without that call. */
  remoteIsSwitch?: boolean;
}

/** One GPU as NVML reports it. Fields whose call failed or is missing from the driver are absent. */
export interface RawNvmlDevice {
  /** NVML's index (the order of nvidia-smi, not CUDA's unless CUDA_DEVICE_ORDER=PCI_BUS_ID). */
  index: number;
  /** Set when NVML could not open the GPU (e.g. "nvmlDeviceGetHandleByIndex_v2: GPU is lost"); then only `index` and `nvlinks` are. */
  error?: string;
  name?: string;
  uuid?: string;
  /** NVML's form, "00000000:18:00.0". */
  pciBusId?: string;
  /** Bytes; `reserved` (driver and firmware) from drivers with nvmlDeviceGetMemoryInfo_v2, which leave it out of `used`. */
  memory?: {total: number; used: number; free: number; reserved?: number};
  computeCapability?: [major: number, minor: number];
  /** Current MIG mode: 1 enabled, 0 disabled; absent when the GPU has no MIG. */
  migMode?: number;
  /** Current ECC mode: 1 enabled, 0 disabled; absent when the GPU has no ECC. */
  eccMode?: number;
  eccVolatileUncorrected?: number;
  eccAggregateUncorrected?: number;
  persistenceMode?: boolean;
  powerDrawMw?: number;
  powerLimitMw?: number;
  clocks?: {sm?: number; mem?: number; maxSm?: number};
  /** NUMA node nearest the GPU's PCIe root (NVML's memory affinity, else sysfs); absent when unknown. */
  numaNode?: number;
  /** nvmlDeviceGetNumaNodeId: the NUMA node that is the GPU's own memory, on coherent platforms (Grace Hopper) only. */
  gpuNumaNode?: number;
  nvlinks: RawNvLink[];
}

/** Two GPUs (i < j, NVML indices) as NVML relates them. */
export interface RawNvmlPair {
  i: number;
  j: number;
  /** nvmlGpuTopologyLevel_t: 0 internal, 10 single switch, 20 multiple switches, 30 host bridge, 40 NUMA node, 50 system. */
  commonAncestor?: number;
  /** nvmlDeviceGetP2PStatus(NVML_P2P_CAPS_INDEX_NVLINK) == NVML_P2P_STATUS_OK. */
  p2pNvlink?: boolean;
}

export type RawNvml =
  /** `error`: dlerror's text when the library cannot be opened, else "call: NVML's message" with its nvmlReturn_t `code`. */
  | {loaded: false; error: string; code?: number}
  | {
      loaded: true;
      /** "550.54.15" */
      driverVersion?: string;
      /** "12.550.54.15" */
      nvmlVersion?: string;
      /** The newest CUDA the driver supports: 12040 for 12.4. */
      cudaDriverVersion?: number;
      devices: RawNvmlDevice[];
      pairs: RawNvmlPair[];
    };

/** One GPU as the CUDA driver API sees it (CUDA_VISIBLE_DEVICES applies; ordinals are CUDA's). */
export interface RawCudaDevice {
  ordinal: number;
  error?: string;
  name?: string;
  /** "0000:18:00.0" */
  pciBusId?: string;
  ccMajor?: number;
  ccMinor?: number;
  multiprocessors?: number;
  totalMemBytes?: number;
}

export type RawCuda =
  /** `code`: cuInit's CUresult (e.g. 802 CUDA_ERROR_SYSTEM_NOT_READY: fabric manager not running). */
  | {loaded: false; error: string; code?: number}
  | {loaded: true; driverVersion?: number; deviceCount: number; devices: RawCudaDevice[]; canAccessPeer: boolean[][]};

export interface RawGpuProbe {
  nvml: RawNvml;
  /** Absent when asked for without it ({cuda: false}). */
  cuda?: RawCuda;
}

export type RawGpuBandwidth =
  | {ok: true; ordinal: number; sizeMiB: number; pinned: boolean; h2dGBps: number; d2dGBps: number}
  | {ok: false; error: string};

export interface NativeAddon {
  /** "dynamo_native N (xxHash x.y.z, N-API 8)". */
  readonly version: string;
  /** [local hashes of every full block…, sequence hashes…] (Dynamo's scheme; chain seed 1337), the first chained to `parent` if given. */
  hashBlocks(tokens: Uint32Array, blockSize: number, seed: bigint, parent?: bigint): BigUint64Array;
  /** hashBlocks over the tokens `dynamo replay` gives each trace hash id (src/replay/trace-prompts.ts), `idTokens` per id, one id after another. */
  hashTraceIds(ids: Uint32Array, idTokens: number, vocab: number, blockSize: number, seed: bigint, parent?: bigint): BigUint64Array;
  xxh3(bytes: Uint8Array, seed: bigint): bigint;
  indexNew(): object;
  /** Releases the index's memory now (else the garbage collector does); later calls with it throw. */
  indexFree(index: object): void;
  /** Status: 0 ok, 1 parent block not found, 2 block not found. `count`: use only the first `count` entries (reused scratch arrays). */
  indexStore(index: object, worker: number, parent: bigint | null, locals: BigUint64Array, externals: BigUint64Array, count?: number): number;
  indexRemove(index: object, worker: number, externals: BigUint64Array, count?: number): number;
  /**
   * Stored and removed events in order, in one call: ops holds (kind, worker, count) per event
   * (kind 0 = stored at the root, 1 = stored under a parent, 2 = removed); hashes holds, event after
   * event, the parent (kind 1), then `count` locals and `count` externals (stored) or `count`
   * externals (removed).
   */
  indexApply(index: object, ops: Uint32Array, nOps: number, hashes: BigUint64Array): void;
  indexClear(index: object, worker: number): void;
  indexTreeSize(index: object, worker: number): number;
  /** Writes scores[w] (leading blocks worker w holds) and sizes[w] (its blocks) for every worker; returns how many workers there are. */
  indexFindMatches(index: object, locals: BigUint64Array, scores: Uint32Array, sizes: Uint32Array): number;
  /**
   * Approximate routing: the worker is assumed to hold the chain (stored from the root, after the
   * first `held` blocks it holds already) until `expiry`; indexExpire takes lapsed predictions out of the index, indexPruneOldest all but
   * `keep` (oldest first); both return how many. indexPredicted: the worker's predictions (-1: all).
   */
  indexPredict(index: object, worker: number, locals: BigUint64Array, seqs: BigUint64Array, expiry: number, held?: number): void;
  indexExpire(index: object, now: number): number;
  indexPruneOldest(index: object, keep: number): number;
  indexPredicted(index: object, worker: number): number;
  indexForgetPredictions(index: object, worker: number): void;
  /** NVML (and, unless {cuda: false}, the CUDA driver) opened with dlopen; never throws: a missing driver is a value. */
  gpuProbe(options?: {cuda?: boolean}): RawGpuProbe;
  /** Host→device (pinned) and device→device copies of sizeMiB (default 64, 1–16384) on CUDA device `ordinal` (default 0); never throws. */
  gpuBandwidth(sizeMiB?: number, ordinal?: number): RawGpuBandwidth;

  // The KV transfer agent (src/native/transfer.ts is the typed face; see transfer.h).
  /** Throws with the reason when it cannot listen. */
  /** `ucx`: also open the UCX backend (libucp via dlopen); its absence is not an error (xferUcxUnavailable). */
  xferAgentNew(name: string, listenHost: string, advertiseHost: string, port: number, timeoutMs: number, ucx: boolean, cudaDevice: number): object;
  /** Why the agent has no UCX backend; undefined when it has one. */
  xferUcxUnavailable(agent: object): string | undefined;
  xferAgentClose(agent: object): void;
  xferPort(agent: object): number;
  /** A zero-filled region of `bytes`; its id. */
  /** memory: 0 a memfd, 1 allocated by UCX, 2 GPU memory. */
  xferAllocate(agent: object, bytes: number, memory: number): number;
  xferRelease(agent: object, region: number): boolean;
  xferMetadata(agent: object): string;
  /** The peer's name. */
  xferLoadPeer(agent: object, metadata: string): string;
  xferRemovePeer(agent: object, name: string): boolean;
  xferSameHost(agent: object, name: string): boolean;
  /** op: 1 READ, 2 WRITE, 3 NOTIFY; ranges as [region, offset, length]*; backend: 0 auto, 1 shm, 2 tcp, 3 ucx. */
  xferPost(agent: object, op: number, peer: string, local: Float64Array, remote: Float64Array, notif: string, backend: number): {id: number} | {status: number; error: string};
  /** status 1 while in progress; then 0 or a negative NIXL status, with bytes moved, ns on the agent's thread and the backend used. */
  xferStatus(agent: object, id: number): {status: number; error?: string; bytes?: number; ns?: number; backend?: string};
  xferWait(agent: object, id: number, timeoutMs: number): number;
  xferForget(agent: object, id: number): void;
  /** [agent, message, agent, message, …], taken. */
  xferNotifications(agent: object): string[];
  xferFill(agent: object, region: number, offset: number, length: number, seed: bigint): void;
  xferWriteBytes(agent: object, region: number, offset: number, bytes: Uint8Array): void;
  xferReadBytes(agent: object, region: number, offset: number, length: number): Buffer;
  /** -1 when the range holds the pattern of `seed`, else the offset of the first wrong byte. */
  xferVerify(agent: object, region: number, offset: number, length: number, seed: bigint): number;
  /** ns of a plain memcpy of each src range (of srcAgent) into its dst range (of dstAgent), both agents in this process. */
  xferCopyNs(dstAgent: object, srcAgent: object, dst: Float64Array, src: Float64Array): number;
}
declare const addon: Partial<NativeAddon> & {loadError?: string};
export = addon;
