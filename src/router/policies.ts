import type {RoutingPolicy} from './policy.js';
import {RandomPolicy} from './random.js';
import {RoundRobinPolicy} from './round-robin.js';

/** The policy for a router mode. KV-aware routing (`kv`) is not built yet and falls back, loudly, to round-robin. */
export function policyFor(mode: string, warn: (msg: string) => void = () => {}): RoutingPolicy {
  if (mode === 'random') return new RandomPolicy();
  if (mode !== 'round-robin') warn(`router mode "${mode}" is not available in this build; routing round-robin`);
  return new RoundRobinPolicy();
}
