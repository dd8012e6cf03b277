/**
 * Which GPUs belong together, as pure functions over `p2p`.
 *
 * - `nvlinkGroups`: the GPUs split into disjoint NVLink cliques (every pair inside a group joined
 *   by NVLink), largest first, ties to the lowest indices; a GPU without NVLink is a group of one.
 *   On an NVSwitch box that is one group; on PCIe cards with bridges, the bridged pairs; on a
 *   DGX-1-style hybrid cube mesh, the two fully connected quads.
 * - `socketGroups`: GPUs that reach each other without crossing the CPU interconnect (SYS),
 *   as connected components.
 * - `bestTpGroups`: `count` disjoint groups of `tp` GPUs, each as fast inside as the box allows.
 *   Rule: for each link class from best to worst (NVLink, PCIe switch, host bridge, across
 *   sockets), split the GPUs not yet taken into cliques joined by that class or better, and cut
 *   as many groups of `tp` from them as fit, lowest indices first, until there are `count`.
 *   Greedy rather than exhaustive: it is exact on the boxes people build (NVSwitch, bridged pairs,
 *   switches per socket) and stays instant on 16 GPUs.
 */
import type {GpuTopology, P2PKind} from './topology.js';

const RANK: Record<P2PKind, number> = {self: -1, nvlink: 0, 'pcie-switch': 1, 'host-bridge': 2, 'cross-socket': 3};
const BY_RANK: P2PKind[] = ['nvlink', 'pcie-switch', 'host-bridge', 'cross-socket'];

type Adjacent = (i: number, j: number) => boolean;

/** The largest clique among `nodes` (sorted), the lexicographically smallest among equals. */
function maxClique(nodes: number[], adjacent: Adjacent): number[] {
  let best: number[] = [];
  const grow = (clique: number[], rest: number[]): void => {
    if (clique.length + rest.length <= best.length) return;
    if (!rest.length) {
      best = clique;
      return;
    }
    const [v, ...others] = rest as [number, ...number[]];
    grow(
      [...clique, v],
      others.filter((u) => adjacent(v, u)),
    );
    grow(clique, others);
  };
  grow([], nodes);
  return best;
}

/** Disjoint cliques covering `nodes`, largest first (ties: lowest first member). */
function cliquePartition(nodes: number[], adjacent: Adjacent): number[][] {
  const groups: number[][] = [];
  let rest = [...nodes].sort((a, b) => a - b);
  while (rest.length) {
    const clique = maxClique(rest, adjacent);
    groups.push(clique);
    rest = rest.filter((v) => !clique.includes(v));
  }
  return groups;
}

function kind(t: GpuTopology, i: number, j: number): P2PKind {
  return t.p2p[i]?.[j]?.kind ?? 'cross-socket';
}

function indices(t: GpuTopology): number[] {
  return t.gpus.map((_, i) => i);
}

export function nvlinkGroups(t: GpuTopology): number[][] {
  return cliquePartition(indices(t), (i, j) => kind(t, i, j) === 'nvlink');
}

export function socketGroups(t: GpuTopology): number[][] {
  const seen = new Set<number>();
  const groups: number[][] = [];
  for (const start of indices(t)) {
    if (seen.has(start)) continue;
    const group: number[] = [];
    const todo = [start];
    seen.add(start);
    while (todo.length) {
      const v = todo.pop()!;
      group.push(v);
      for (const u of indices(t)) {
        if (!seen.has(u) && kind(t, v, u) !== 'cross-socket') {
          seen.add(u);
          todo.push(u);
        }
      }
    }
    groups.push(group.sort((a, b) => a - b));
  }
  return groups;
}

/** The slowest link inside a group of GPUs ('self' for one GPU). */
export function slowestLink(t: GpuTopology, gpus: readonly number[]): P2PKind {
  let worst: P2PKind = 'self';
  for (const i of gpus) for (const j of gpus) if (i !== j && RANK[kind(t, i, j)] > RANK[worst]) worst = kind(t, i, j);
  return worst;
}

export interface TpGroup {
  gpus: number[];
  /** The slowest link between two GPUs of the group ('self' when tp is 1). */
  link: P2PKind;
}

/** `count` groups of `tp` GPUs, best first; undefined when the box has fewer than tp × count GPUs. */
export function bestTpGroups(t: GpuTopology, tp: number, count: number): TpGroup[] | undefined {
  if (!Number.isInteger(tp) || !Number.isInteger(count) || tp < 1 || count < 1 || tp * count > t.gpus.length) return undefined;
  const taken = new Set<number>();
  const groups: TpGroup[] = [];
  for (const cls of BY_RANK) {
    const free = indices(t).filter((i) => !taken.has(i));
    const cliques = cliquePartition(free, (i, j) => RANK[kind(t, i, j)] <= RANK[cls]);
    for (const clique of cliques) {
      for (let k = 0; k + tp <= clique.length && groups.length < count; k += tp) {
        const gpus = clique.slice(k, k + tp);
        for (const g of gpus) taken.add(g);
        groups.push({gpus, link: slowestLink(t, gpus)});
      }
    }
    if (groups.length === count) break;
  }
  return groups;
}
