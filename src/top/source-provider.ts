/**
 * Where the poller gets its sources each refresh: a deployment's run directory, re-read every time
 * (one small JSON file and the discovery directory: restarts, new pids and workers leaving show up
 * on the next refresh), or a fixed list of URLs. The only IO of src/top/ besides HTTP.
 */
import {readFileSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {DEFAULT_LEASE_TTL_MS} from '../runtime/discovery/file-store.js';
import type {WorkerRecord} from '../runtime/discovery/types.js';
import {findDeployment} from '../supervisor/find-deployment.js';
import {type RunState, readState} from '../supervisor/run-dir.js';
import type {TopSnapshot} from './snapshot.js';
import {sourcesFromRunState, sourcesFromUrls} from './sources.js';
import type {SourceInfo} from './store.js';

export interface SourceProvider {
  /** The deployment watched, when watching one. */
  readonly deployment?: NonNullable<TopSnapshot['deployment']>;
  /** The sources now; `gone` when the deployment's state file disappeared (it was stopped). */
  read(now: number): {sources: SourceInfo[]; gone?: boolean};
}

export function urlSources(urls: readonly string[]): SourceProvider {
  const sources = sourcesFromUrls(urls);
  return {read: () => ({sources})};
}

/**
 * Live discovery records, read without touching them (the file store's own readers delete expired
 * leases; `top` only looks). Undefined when the directory cannot be read.
 */
export function readDiscovery(runDir: string, now: number, ttlMs = DEFAULT_LEASE_TTL_MS): WorkerRecord[] | undefined {
  const dir = join(runDir, 'discovery', 'instances');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const out: WorkerRecord[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const file = join(dir, name);
      if (now - statSync(file).mtimeMs > ttlMs) continue;
      out.push(JSON.parse(readFileSync(file, 'utf8')) as WorkerRecord);
    } catch {
      // Vanished or half-written: absent this round.
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** The sources of a running `dynamo up` deployment (the one named, or the only one running). */
export function deploymentSources(home: string, name: string | undefined, opts: {nameFlag?: string} = {}): SourceProvider {
  const entry = findDeployment(home, name, {nameFlag: opts.nameFlag});
  const {runDir} = entry;
  let last: RunState = entry.state;
  return {
    deployment: {name: last.name, model: last.model, url: last.url, startedAt: last.startedAt},
    read(now) {
      const state = readState(runDir);
      if (state) last = state;
      return {sources: sourcesFromRunState(last, readDiscovery(runDir, now)), ...(state ? {} : {gone: true})};
    },
  };
}
