import type {RoutingPolicy, WorkerSnapshot} from './policy.js';

/** A uniformly random worker; randomness is injected so tests are deterministic. */
export class RandomPolicy implements RoutingPolicy {
  readonly name = 'random';
  constructor(private readonly random: () => number = Math.random) {}

  select(workers: readonly WorkerSnapshot[]): WorkerSnapshot | undefined {
    if (!workers.length) return undefined;
    return workers[Math.min(workers.length - 1, Math.floor(this.random() * workers.length))];
  }
}
