/**
 * File discovery store: one JSON file per worker in `<dir>/instances/`, written atomically
 * (tmp + rename). The owner touches its file every ttl/3; readers ignore and delete files older
 * than the TTL. Default TTL 1.5 s, so a dead worker leaves routing within 2 s even if its
 * connection drop went unnoticed.
 */
import {mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {DiscoveryStore, Lease, WorkerRecord} from './types.js';

export const DEFAULT_LEASE_TTL_MS = 1500;

export class FileDiscovery implements DiscoveryStore {
  private readonly dir: string;

  constructor(
    root: string,
    private readonly ttlMs = DEFAULT_LEASE_TTL_MS,
    private readonly pollMs = 200,
  ) {
    this.dir = join(root, 'instances');
    mkdirSync(this.dir, {recursive: true});
  }

  async register(record: WorkerRecord): Promise<Lease> {
    const file = join(this.dir, `${record.id}.json`);
    const tmp = join(this.dir, `.tmp-${record.id}-${process.pid}`);
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, file);
    const beat = setInterval(() => {
      const now = new Date();
      try {
        utimesSync(file, now, now);
      } catch {
        // Deleted by a reader after a long pause (e.g. a stopped process): write it again.
        writeFileSync(file, JSON.stringify(record));
      }
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    beat.unref();
    return {
      revoke: async () => {
        clearInterval(beat);
        rmSync(file, {force: true});
      },
    };
  }

  async list(): Promise<WorkerRecord[]> {
    return this.listSync();
  }

  private listSync(now = Date.now()): WorkerRecord[] {
    const out: WorkerRecord[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return out;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.dir, name);
      try {
        if (now - statSync(file).mtimeMs > this.ttlMs) {
          rmSync(file, {force: true}); // lease expired: the owner is gone
          continue;
        }
        out.push(JSON.parse(readFileSync(file, 'utf8')) as WorkerRecord);
      } catch {
        // Vanished or half-written between readdir and read: skip this round.
      }
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  watch(onChange: (workers: WorkerRecord[]) => void): () => void {
    // Nothing told yet: the first view goes out even when it is empty (a frontend waits for it).
    let last: string | undefined;
    const tick = () => {
      const workers = this.listSync();
      const key = workers.map((w) => `${w.id}@${w.startedAt}`).join(',');
      if (key !== last) {
        last = key;
        onChange(workers);
      }
    };
    tick();
    const timer = setInterval(tick, this.pollMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
