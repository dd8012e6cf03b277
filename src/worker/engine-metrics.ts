/**
 * A real engine's Prometheus page, polled: the worker serves it as its own `/metrics` (so `top`
 * and Prometheus read the engine's names through the worker's port) and reads from it what the
 * router needs (`engineStats`: running, waiting, KV share in use).
 */
import type {RealEngine} from '../engines/launch.js';
import {type EngineStats, engineStats} from './engine-stats.js';

export class EngineMetricsPoller {
  /** The last page read ('' until one is). */
  page = '';
  stats: EngineStats = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly engine: RealEngine,
    private readonly url: string,
    private readonly everyMs = 1000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    try {
      const res = await fetch(this.url, {signal: AbortSignal.timeout(2000)});
      if (!res.ok) return;
      this.page = await res.text();
      this.stats = engineStats(this.engine, this.page);
    } catch {
      // The engine is down or slow: keep the last figures; the engine process reports the exit.
    }
  }
}
