/**
 * A worker's picture of what its external engine has cached, built from the engine's KV events,
 * so the worker can serve routers as the mocker does: live events, and a snapshot of the cached
 * blocks for a router that starts late or lost events. Pure.
 *
 * Rules:
 * - A block is cached while any data-parallel rank holds it. The router sees the worker as one
 *   target, so `stored` goes out when the first rank stores a block and `removed` when the last
 *   rank drops it; what one rank does to a block another still holds is not news.
 * - A rank's `cleared` (its engine restarted, or reset its prefix cache) drops that rank's blocks.
 * - A gap in a rank's event ids means events were lost: that rank's blocks are dropped too
 *   (the engine's later events rebuild them), and the event that revealed the gap is then applied.
 * - Removing a block the mirror does not know is ignored (it was stored before we listened).
 */
import type {KvEvent, KvEventData, StoredBlock} from './events.js';

interface Entry {
  parent?: bigint;
  tokensHash: bigint;
  ranks: Set<number>;
}

export class KvBlockMirror {
  private readonly blocks = new Map<bigint, Entry>();
  private readonly lastIds = new Map<number, number>();
  /** Events lost (gaps in event ids), for the worker's metrics. */
  gaps = 0;

  get size(): number {
    return this.blocks.size;
  }

  /** Applies one engine event; returns what the router should be told. */
  apply(event: KvEvent): KvEventData[] {
    const out: KvEventData[] = [];
    const last = this.lastIds.get(event.dpRank);
    this.lastIds.set(event.dpRank, event.eventId);
    if (last !== undefined && event.eventId > last + 1) {
      this.gaps++;
      this.dropRank(event.dpRank, out);
    }
    const d = event.data;
    if (d.type === 'cleared') this.dropRank(event.dpRank, out);
    else if (d.type === 'removed') this.remove(event.dpRank, d.blockHashes, out);
    else this.store(event.dpRank, d.parentHash, d.blocks, out);
    return out;
  }

  /** Every cached block, parents before children (a block whose parent is gone cannot be matched, so it is left out). */
  snapshot(): KvEventData[] {
    const out: KvEventData[] = [];
    const done = new Map<bigint, boolean>();
    const visit = (hash: bigint, e: Entry): boolean => {
      let ok = done.get(hash);
      if (ok !== undefined) return ok;
      done.set(hash, false); // a loop in what an engine sent must not recurse forever
      const parent = e.parent === undefined ? undefined : this.blocks.get(e.parent);
      ok = e.parent === undefined || (parent !== undefined && visit(e.parent, parent));
      done.set(hash, ok);
      if (ok) out.push({type: 'stored', ...(e.parent === undefined ? {} : {parentHash: e.parent}), blocks: [{blockHash: hash, tokensHash: e.tokensHash}]});
      return ok;
    };
    for (const [hash, e] of this.blocks) visit(hash, e);
    return out;
  }

  private store(rank: number, parentHash: bigint | undefined, blocks: readonly StoredBlock[], out: KvEventData[]): void {
    // New blocks go out in runs, each under the block before it, as the engine chained them.
    let parent = parentHash;
    let run: StoredBlock[] = [];
    let runParent = parent;
    const flush = () => {
      if (run.length) out.push({type: 'stored', ...(runParent === undefined ? {} : {parentHash: runParent}), blocks: run});
      run = [];
    };
    for (const b of blocks) {
      const e = this.blocks.get(b.blockHash);
      if (e) {
        e.ranks.add(rank);
        flush();
      } else {
        if (!run.length) runParent = parent;
        this.blocks.set(b.blockHash, {parent, tokensHash: b.tokensHash, ranks: new Set([rank])});
        run.push(b);
      }
      parent = b.blockHash;
    }
    flush();
  }

  private remove(rank: number, hashes: readonly bigint[], out: KvEventData[]): void {
    const gone: bigint[] = [];
    for (const h of hashes) {
      const e = this.blocks.get(h);
      if (!e?.ranks.delete(rank)) continue;
      if (!e.ranks.size) {
        this.blocks.delete(h);
        gone.push(h);
      }
    }
    if (gone.length) out.push({type: 'removed', blockHashes: gone});
  }

  private dropRank(rank: number, out: KvEventData[]): void {
    const held = [...this.blocks].filter(([, e]) => e.ranks.has(rank)).map(([h]) => h);
    if (held.length === this.blocks.size && held.length) {
      this.blocks.clear();
      out.push({type: 'cleared'});
      return;
    }
    this.remove(rank, held, out);
  }
}
