/**
 * Router event ids for one engine, as Dynamo's relay assigns them: consecutive from 0 per DP rank,
 * one per router event, for the subscriber's lifetime (an engine restart is a `cleared` event, not
 * a new numbering). The ZMQ seq cannot serve: it counts batches, and a batch holds many events.
 * When batches are lost for good, every rank's next id skips one, so the router's check (an id
 * above last+1 is a gap) sees the loss without knowing about ZMQ.
 */
export class EventIds {
  private readonly next = new Map<number, number>();

  take(dpRank: number): number {
    const id = this.next.get(dpRank) ?? 0;
    this.next.set(dpRank, id + 1);
    return id;
  }

  /** Batches were lost (their DP rank unknown): leave a hole in every rank's ids. */
  skip(): void {
    for (const [rank, id] of this.next) this.next.set(rank, id + 1);
  }

  /** The DP ranks that have had events, for a restart's `cleared` per rank. */
  ranks(): number[] {
    return [...this.next.keys()].sort((a, b) => a - b);
  }
}
