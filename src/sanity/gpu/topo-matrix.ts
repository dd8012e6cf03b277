/**
 * `nvidia-smi topo -m` → how each pair of GPUs reaches the other, and each GPU's NUMA node.
 *
 * The matrix: a header row of device columns (GPU0 GPU1 …, then NICs as NIC0 … or mlx5_0 …),
 * then "CPU Affinity", "NUMA Affinity" and, on newer drivers, "GPU NUMA ID"; one row per device;
 * a legend below. Cells are tab-separated, and labels may carry ANSI underline escapes. Cells map
 * to `P2PKind` as topology.ts's legend says: X self, NV# nvlink (# bonded links), PIX/PXB
 * pcie-switch, PHB/NODE host-bridge, SYS (SOC on old drivers) cross-socket. NIC rows and columns
 * are dropped. Without tabs (a copy through a terminal), cells are split on whitespace instead.
 */
import type {P2PLink} from './topology.js';

export interface TopoMatrix {
  /** p2p[i][j] for GPU<i> → GPU<j>. */
  p2p: P2PLink[][];
  /** NUMA node of each GPU's CPU side ("NUMA Affinity"); undefined when "N/A" or a range. */
  numaNodes: (number | undefined)[];
  /** "0-55,112-167"; undefined when empty or "N/A". */
  cpuAffinity: (string | undefined)[];
}

export class TopoError extends Error {
  override name = 'TopoError';
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const AFFINITY_COLUMNS = ['CPU Affinity', 'NUMA Affinity', 'GPU NUMA ID'];

export function p2pLinkOf(cell: string): P2PLink | undefined {
  const c = cell.trim().toUpperCase();
  if (c === 'X') return {kind: 'self'};
  const nv = /^NV(\d+)$/.exec(c);
  if (nv) return {kind: 'nvlink', nvlinks: Number(nv[1])};
  if (c === 'PIX' || c === 'PXB') return {kind: 'pcie-switch'};
  if (c === 'PHB' || c === 'NODE') return {kind: 'host-bridge'};
  if (c === 'SYS' || c === 'SOC') return {kind: 'cross-socket'};
  return undefined;
}

function splitHeader(line: string, tabs: boolean): string[] {
  if (tabs) return line.split('\t').map((s) => s.trim()).filter(Boolean);
  let l = line;
  for (const col of AFFINITY_COLUMNS) l = l.replace(col, col.replace(/ /g, '\u0000'));
  return l.trim().split(/\s+/).map((s) => s.replace(/\u0000/g, ' '));
}

function known(cell: string | undefined): string | undefined {
  const t = cell?.trim();
  return !t || /^N\/A$/i.test(t) ? undefined : t;
}

/** Throws `TopoError` when there is no matrix or a GPU cell is not one of the legend's. */
export function parseTopoMatrix(text: string): TopoMatrix {
  const lines = text.replace(ANSI, '').replace(/\r/g, '').split('\n');
  const h = lines.findIndex((l) => /(^|\s)GPU0(\s|$)/.test(l));
  if (h < 0) throw new TopoError('no GPU0 column in the topology matrix');
  const tabs = lines[h]!.includes('\t');
  const header = splitHeader(lines[h]!, tabs);
  const affinityAt = header.findIndex((c) => AFFINITY_COLUMNS.includes(c));
  const devices = affinityAt < 0 ? header : header.slice(0, affinityAt);
  const gpuCols = devices.flatMap((name, col) => (/^GPU\d+$/.test(name) ? [{gpu: Number(name.slice(3)), col}] : []));
  const n = gpuCols.length;
  gpuCols.forEach(({gpu}, k) => {
    if (gpu !== k) throw new TopoError(`column ${devices[gpuCols[k]!.col]} where GPU${k} was expected`);
  });

  const p2p: P2PLink[][] = [];
  const numaNodes: (number | undefined)[] = [];
  const cpuAffinity: (string | undefined)[] = [];
  for (const raw of lines.slice(h + 1)) {
    if (!raw.trim()) {
      if (p2p.length) break;
      continue;
    }
    const cells = tabs ? raw.split('\t') : raw.trim().split(/\s+/);
    const label = cells[0]!.trim();
    if (/^Legend:?$/i.test(label)) break;
    if (!/^GPU\d+$/.test(label)) continue; // NIC rows
    const i = Number(label.slice(3));
    if (i !== p2p.length) throw new TopoError(`row ${label} where GPU${p2p.length} was expected`);
    const values = cells.slice(1);
    p2p.push(
      gpuCols.map(({col}) => {
        const link = p2pLinkOf(values[col] ?? '');
        if (!link) throw new TopoError(`${label} → ${devices[col]}: "${(values[col] ?? '').trim()}" is not in the legend`);
        return link;
      }),
    );
    const rest = values.slice(devices.length);
    const numa = known(rest[1]);
    numaNodes.push(numa !== undefined && /^\d+$/.test(numa) ? Number(numa) : undefined);
    cpuAffinity.push(known(rest[0]));
  }
  if (p2p.length !== n) throw new TopoError(`the matrix has ${n} GPU columns but ${p2p.length} GPU rows`);
  if (n === 0) throw new TopoError('the topology matrix lists no GPUs');
  return {p2p, numaNodes, cpuAffinity};
}
