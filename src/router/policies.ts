import {KvRouter} from './kv-router.js';
import {type RequestRouter, policyRouter} from './policy.js';
import {RandomPolicy} from './random.js';
import {RoundRobinPolicy} from './round-robin.js';

export interface RouterSettings {
  mode: string;
  blockSize: number;
  overlapWeight: number;
  temperature: number;
  kvEvents: boolean;
  queueThreshold: number;
  ttlSecs: number;
  maxTreeSize: number;
  pruneTargetRatio: number;
}

/** The frontend's router for a router mode. */
export async function createRouter(s: RouterSettings): Promise<RequestRouter> {
  if (s.mode === 'random') return policyRouter(new RandomPolicy());
  if (s.mode === 'kv') {
    return KvRouter.create({
      blockSize: s.blockSize,
      overlapWeight: s.overlapWeight,
      temperature: s.temperature,
      useKvEvents: s.kvEvents,
      ttlMs: s.ttlSecs * 1000,
      maxTreeSize: s.maxTreeSize,
      pruneTargetRatio: s.pruneTargetRatio,
    });
  }
  return policyRouter(new RoundRobinPolicy());
}
