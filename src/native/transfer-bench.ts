/**
 * The transfer benchmark's core, shared by `npm run bench:transfer` and the binary's hidden
 * `dynamo debug transfer-bench` (a GPU machine may have no node). Two agents in this process talk
 * through their real backends (the peer's memfd regions mapped for shm, UCX's own memory for ucx,
 * a loopback socket for tcp, GPU memory for cuda); each READ of a block list is compared with a
 * plain copy of the same bytes (the same ranges of the same two regions, one single-threaded memcpy
 * per block; for GPU memory the driver's copy on one stream), the two alternating in one loop, so
 * the figure that matters is the ratio, not the machine.
 *
 * Layouts: contiguous (the blocks adjacent on both sides) and scattered (the same blocks at
 * shuffled places in regions twice as large). Bandwidth uses the agent thread's own clock; latency
 * is the wall time of post → done as a caller sees it. All are medians.
 */
import {prng} from '../shared/prng.js';
import {UserError} from '../shared/errors.js';
import {type ByteRange, type RegionMemory, type TransferBackend, TransferAgent, packRanges} from './transfer.js';

export const DEFAULT_SIZES = [16 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20];
const BLOCK = 64 << 10;

export interface TransferBenchRow {
  backend: Exclude<TransferBackend, 'auto'>;
  layout: 'contiguous' | 'scattered';
  bytes: number;
  blocks: number;
  iterations: number;
  gbps: number;
  latencyUs: number;
  memcpyGbps: number;
  /** Median over the alternating pairs of memcpy time / transfer time. */
  ofMemcpy: number;
  /** Median over the rounds of shm's time / this backend's for the same transfer (shm measured in the same run). */
  ofShm?: number;
}

export interface TransferBenchOptions {
  sizes?: readonly number[];
  backends?: readonly Exclude<TransferBackend, 'auto'>[];
  /** Wall time to spend per row, at least (default 150 ms). */
  msPerRow?: number;
}

function blockLists(bytes: number, layout: 'contiguous' | 'scattered', seed: number, localRegion: number, remoteRegion: number): {local: ByteRange[]; remote: ByteRange[]} {
  const block = Math.min(BLOCK, bytes);
  const n = Math.ceil(bytes / block);
  const at = (i: number) => i * block;
  let localSlots = [...Array(n).keys()];
  let remoteSlots = [...Array(n).keys()];
  if (layout === 'scattered') {
    const rand = prng(seed);
    const shuffle = (slots: number[]) => {
      for (let i = slots.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [slots[i], slots[j]] = [slots[j]!, slots[i]!];
      }
      return slots.slice(0, n);
    };
    localSlots = shuffle([...Array(2 * n).keys()]);
    remoteSlots = shuffle([...Array(2 * n).keys()]);
  }
  const len = (i: number) => Math.min(block, bytes - i * block);
  return {
    local: localSlots.map((s, i) => ({region: localRegion, offset: at(s), length: len(i)})),
    remote: remoteSlots.map((s, i) => ({region: remoteRegion, offset: at(s), length: len(i)})),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function runTransferBench(opts: TransferBenchOptions = {}): TransferBenchRow[] {
  const sizes = opts.sizes ?? DEFAULT_SIZES;
  const msPerRow = opts.msPerRow ?? 150;
  const largest = Math.max(...sizes);
  const reader = TransferAgent.create({name: `bench-reader-${process.pid}`});
  const owner = TransferAgent.create({name: `bench-owner-${process.pid}`});
  const rows: TransferBenchRow[] = [];
  try {
    // UCX rows where the UCX backend is up on both agents (it is opened with dlopen: may be absent),
    // cuda rows where there is a GPU.
    const ucx = !reader.ucxUnavailable && !owner.ucxUnavailable;
    const backends = opts.backends ?? [...(['shm', ...(ucx ? ['ucx' as const] : []), 'tcp'] as const), ...(TransferAgent.cudaMissing() === undefined ? ['cuda' as const] : [])];
    // One region per side and kind of memory, twice the largest transfer (room to scatter), every
    // page touched once: host memory for shm and tcp, UCX's own for ucx (as a worker allocates it).
    const regions = (memory: RegionMemory) => {
      const local = reader.allocate(2 * largest, memory);
      const remote = owner.allocate(2 * largest, memory);
      owner.fill({region: remote, offset: 0, length: 2 * largest}, 1n);
      reader.fill({region: local, offset: 0, length: 2 * largest}, 2n);
      return {local, remote};
    };
    // Allocated when first used: shm's rows measured with UCX's segments around ran slower (here,
    // scattered from 16 MiB) than on their own.
    const memories = new Map<RegionMemory, {local: number; remote: number}>();
    let peer = '';
    const memoryOf = (backend: Exclude<TransferBackend, 'auto'>) => {
      const kind: RegionMemory = backend === 'ucx' ? 'ucx' : backend === 'cuda' ? 'cuda' : 'host';
      let m = memories.get(kind);
      if (!m) {
        memories.set(kind, (m = regions(kind)));
        peer = reader.loadPeer(owner.metadata());
      }
      return m;
    };
    // One measured transfer of a block list, by one backend.
    const trial = (backend: Exclude<TransferBackend, 'auto'>, layout: 'contiguous' | 'scattered', bytes: number) => {
      const {local, remote} = memoryOf(backend);
      const lists = blockLists(bytes, layout, bytes, local, remote);
      const l = packRanges(lists.local);
      const r = packRanges(lists.remote);
      const once = () => {
        const started = performance.now();
        const id = reader.post('READ', peer, l, r, {backend});
        if (typeof id !== 'number') throw new UserError(`${backend} transfer refused: ${id.error}`);
        const res = reader.waitSync(id);
        if (!res.ok) throw new UserError(`${backend} transfer failed: ${res.error}`, backend === 'ucx' ? 'UCX picks its transports from UCX_TLS; try UCX_TLS=sm,self or leave ucx out (--backend shm --backend tcp)' : undefined);
        return {ns: res.ns, wallUs: (performance.now() - started) * 1000};
      };
      once(); // maps the peer's region, opens the connection
      return {blocks: lists.local.length, once, copy: () => reader.plainCopyNs(owner, l, r)};
    };
    const rounds = (run: () => void) => {
      const until = performance.now() + msPerRow;
      for (let n = 0; n < 7 || performance.now() < until; n++) run();
    };
    for (const backend of backends) {
      for (const layout of ['contiguous', 'scattered'] as const) {
        for (const bytes of sizes) {
          // Transfers and plain copies alternate, so both see the same machine (it is shared and
          // noisy); each figure is a median, and the ratio the median of the pairs' ratios.
          const t = trial(backend, layout, bytes);
          const xferNs: number[] = [];
          const memNs: number[] = [];
          const walls: number[] = [];
          rounds(() => {
            const x = t.once();
            xferNs.push(x.ns);
            walls.push(x.wallUs);
            memNs.push(t.copy());
          });
          // ucx against shm: the two transfers take turns in a loop of their own, round by round.
          let ofShm: number | undefined;
          if (backend === 'ucx' && backends.includes('shm')) {
            const s = trial('shm', layout, bytes);
            const ratios: number[] = [];
            rounds(() => ratios.push(s.once().ns / t.once().ns));
            ofShm = median(ratios);
          }
          const ofMemcpy = median(memNs.map((m, i) => m / xferNs[i]!));
          rows.push({backend, layout, bytes, blocks: t.blocks, iterations: walls.length, gbps: bytes / median(xferNs), latencyUs: median(walls), memcpyGbps: bytes / median(memNs), ofMemcpy, ...(ofShm === undefined ? {} : {ofShm})});
        }
      }
    }
    // The bytes arrived as they left: a READ of the largest size puts the owner's pattern in place.
    const checks = [...memories].map(([kind, m]) => [kind === 'host' ? 'tcp' : kind, m] as const);
    for (const [backend, {local, remote}] of checks) {
      const check = blockLists(largest, 'contiguous', 0, local, remote);
      const id = reader.post('READ', peer, packRanges(check.local), packRanges(check.remote), {backend});
      if (typeof id === 'number') reader.waitSync(id);
      const bad = reader.verify({region: local, offset: 0, length: largest}, 1n);
      if (bad !== -1) throw new Error(`the bytes read over ${backend} differ from the owner's at offset ${bad}`);
    }
  } finally {
    reader.close();
    owner.close();
  }
  return rows;
}

const fmtBytes = (b: number) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);

export function transferBenchTable(rows: readonly TransferBenchRow[]): string {
  const head = ['backend', 'layout', 'size', 'blocks', 'GB/s', 'latency µs', 'memcpy GB/s', 'of memcpy', 'of shm'];
  const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(0)} %`);
  const body = rows.map((r) => [r.backend, r.layout, fmtBytes(r.bytes), String(r.blocks), r.gbps.toFixed(2), r.latencyUs.toFixed(0), r.memcpyGbps.toFixed(2), pct(r.ofMemcpy), pct(r.ofShm)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/**
 * The targets, judged on the rows: shm at ≥ 1 MiB keeps ≥ 80 % of a memcpy of the same bytes, and
 * UCX (where it ran) stays within 20 % of shm on the same host, row by row (each as a share of memcpy).
 */
export function transferBenchTargets(rows: readonly TransferBenchRow[]): {shmAtLeast1MiB?: number; ucxOfShmAtLeast1MiB?: number; met: boolean} {
  const big = rows.filter((r) => r.bytes >= 1 << 20);
  const shm = big.filter((r) => r.backend === 'shm');
  const worst = shm.length ? Math.min(...shm.map((r) => r.ofMemcpy)) : undefined;
  const ucx = big.filter((r) => r.backend === 'ucx');
  // Round by round against shm's transfer of the same size, taken in the same loop.
  const ucxRatios = ucx.map((u) => u.ofShm ?? Number.NaN).filter(Number.isFinite);
  const ucxWorst = ucxRatios.length ? Math.min(...ucxRatios) : undefined;
  return {
    ...(worst === undefined ? {} : {shmAtLeast1MiB: +worst.toFixed(3)}),
    ...(ucxWorst === undefined ? {} : {ucxOfShmAtLeast1MiB: +ucxWorst.toFixed(3)}),
    met: (worst ?? 0) >= 0.8 && (ucxWorst === undefined || ucxWorst >= 0.8),
  };
}
