import type {RoutingPolicy, WorkerSnapshot} from './policy.js';

/** Each request to the next worker in id order. */
export class RoundRobinPolicy implements RoutingPolicy {
  readonly name = 'round-robin';
  private counter = 0;

  select(workers: readonly WorkerSnapshot[]): WorkerSnapshot | undefined {
    if (!workers.length) return undefined;
    return workers[this.counter++ % workers.length];
  }
}
