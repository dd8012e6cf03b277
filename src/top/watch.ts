/**
 * The one service `dynamo top` calls: a store fed by a poller, watching a deployment or URLs.
 * `openTop` for the live view (start the poller, render the store, stop on exit); `topOnce` for
 * the plain twins (`--once`, `--json`): two refreshes one interval apart, so rates are known.
 */
import {UserError} from '../shared/errors.js';
import {HeapBudget, bunHeapProbe} from './heap-budget.js';
import {Poller} from './poller.js';
import {type SourceProvider, deploymentSources, urlSources} from './source-provider.js';
import type {TopSnapshot} from './snapshot.js';
import {TopStore} from './store.js';

export interface TopOptions {
  /** DYN_HOME: where run directories are. */
  home: string;
  /** The deployment to watch (default: the only one running). Ignored with `urls`. */
  name?: string;
  /** Metrics endpoints to watch instead of a deployment. */
  urls?: readonly string[];
  intervalS?: number;
  windowS?: number;
  /** The flag naming a deployment in the calling command, for the hint when several run. */
  nameFlag?: string;
}

export interface TopWatch {
  store: TopStore;
  poller: Poller;
}

function providerFor(opts: TopOptions): SourceProvider {
  if (opts.urls?.length) return urlSources(opts.urls);
  return deploymentSources(opts.home, opts.name, {nameFlag: opts.nameFlag});
}

/**
 * Store and poller, not started: `poller.start()`, render `store`, then `await poller.stop()`.
 * In the binary each refresh ends with a check of the memory budget (heap-budget.ts).
 */
export function openTop(opts: TopOptions): TopWatch {
  if (opts.intervalS !== undefined && !(opts.intervalS > 0)) throw new UserError(`interval must be above 0 s (got ${opts.intervalS})`);
  if (opts.windowS !== undefined && opts.intervalS !== undefined && opts.windowS < 2 * opts.intervalS) {
    throw new UserError(`a window of ${opts.windowS} s holds fewer than two refreshes of ${opts.intervalS} s`, 'make the window at least twice the interval');
  }
  const provider = providerFor(opts);
  const store = new TopStore({intervalS: opts.intervalS, windowS: opts.windowS});
  const probe = bunHeapProbe();
  const budget = probe && new HeapBudget(probe);
  return {store, poller: new Poller({store, provider, afterRound: budget && (() => budget.check())})};
}

/** One snapshot with rates: two refreshes one interval apart. */
export async function topOnce(opts: TopOptions): Promise<TopSnapshot> {
  const {store, poller} = openTop(opts);
  try {
    await poller.rounds(2);
  } finally {
    await poller.stop();
  }
  return store.snapshot();
}
