/**
 * What `dynamo top` shows at one moment: the contract between the data side (pollers and the store,
 * src/top/) and the views (Ink components in src/tui/, the --once text frame, the --json document).
 * Plain data, no functions, so a snapshot can be recorded to JSON and replayed in frame tests.
 *
 * Rates are per second over the window; latencies are milliseconds, percentiles over the window
 * from histogram bucket deltas. A figure that is unknown (no source exposes it, or not enough
 * samples yet) is undefined and shows as "–", never as 0.
 */

export type SourceKind = 'dynamo-frontend' | 'dynamo-worker' | 'vllm' | 'sglang' | 'unknown';
export type SourceRole = 'frontend' | 'agg' | 'prefill' | 'decode';

export interface Percentiles {
  p50?: number;
  p90?: number;
  p99?: number;
}

export interface SourceView {
  /** Process id from the run directory (agg-0, frontend) or the URL's host:port. */
  id: string;
  kind: SourceKind;
  /** The metrics URL polled. */
  url: string;
  role?: SourceRole;
  /** Where it runs ("local" or an SSH host name). */
  host?: string;
  /** up: the last scrape answered; down: it stopped answering (since `downSince`); starting: no answer yet. */
  state: 'up' | 'down' | 'starting';
  /** Epoch ms of the first failed scrape of the current outage. */
  downSince?: number;
  /** Why the last scrape failed ("connection refused", "HTTP 500", "timeout"). */
  error?: string;
  /** Restarts the supervisor recorded (run directory), when known. */
  restarts?: number;
  running?: number;
  waiting?: number;
  /** 0–1 */
  kvUsage?: number;
  /** 0–1: prefix-cache hits / queries over the window (vLLM tokens; SGLang's gauge). */
  hitRate?: number;
  requestsPerS?: number;
  inputTokensPerS?: number;
  outputTokensPerS?: number;
  ttftMs?: Percentiles;
  itlMs?: Percentiles;
  /** Recent values, oldest first, one per refresh, for sparklines (null where the source was down or the figure unknown: JSON has no NaN). */
  history: {outputTokensPerS: (number | null)[]; kvUsage: (number | null)[]};
  /** Metric families of this source that top understands (shown for unknown endpoints). */
  understood: string[];
  /** The process's log file, from the run directory. */
  logFile?: string;
}

export interface ClusterTotals {
  requestsPerS?: number;
  inputTokensPerS?: number;
  outputTokensPerS?: number;
  inFlight?: number;
  queued?: number;
  ttftMs?: Percentiles;
  itlMs?: Percentiles;
  /** 0–1: the router's view (cached prompt tokens / prompt tokens) and the workers' own. */
  hitRate: {router?: number; workers?: number};
  errorsPerS?: number;
  /** 503 (overloaded / no worker) and 529 responses per second. */
  rejectedPerS?: number;
}

export interface TopWarning {
  /** Epoch ms. */
  at: number;
  text: string;
}

export interface TopSnapshot {
  /** Epoch ms of this snapshot. */
  at: number;
  intervalS: number;
  windowS: number;
  paused: boolean;
  /** The watched `dynamo up` deployment, when watching one. */
  deployment?: {name: string; model: string; url: string; startedAt: number};
  totals: ClusterTotals;
  /** Requests parked in the router queue, when the frontend exposes it. */
  routerQueue?: number;
  /** Disaggregated serving: prefill → decode KV transfer. */
  disagg?: {transferTokensPerS?: number; transferQueue?: number};
  sources: SourceView[];
  /** Newest last: sources that went down or came back, restarts, workers that left discovery. */
  warnings: TopWarning[];
}
