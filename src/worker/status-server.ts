/**
 * The worker's HTTP port: `/health` (200 ready; 503 while its engine loads or restarts, and while
 * draining, so load balancers and the supervisor's readiness check see the state) and `/metrics` (Prometheus text).
 */
import {type Server, createServer} from 'node:http';
import {PROMETHEUS_CONTENT_TYPE} from '../metrics/prometheus.js';

/** ready: serving; loading: its engine is starting; restarting: its engine died and comes back; draining: stopping. */
export type WorkerState = 'ready' | 'loading' | 'restarting' | 'draining';

export interface WorkerHealth {
  status: WorkerState;
  workerId: string;
  inFlight: number;
  kvUsage: number;
  /** Block accounting (free + active + inactive = total; `leases`: requests a prefill worker holds blocks for). */
  kvBlocks?: {total: number; free: number; active: number; inactive: number; leases?: number};
  /** Id of the last KV event published (-1: none yet); a router's /health says how far it has applied them. */
  kvEventId?: number;
}

export interface StatusServerOptions {
  host: string;
  port: number;
  health: () => WorkerHealth;
  /** Prometheus text, up to date at the time of the scrape. */
  metrics: () => string;
}

export function serveWorkerStatus(opts: StatusServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      const h = opts.health();
      res.writeHead(h.status === 'ready' ? 200 : 503, {'content-type': 'application/json'});
      // Memory too: what a soak (npm run bench:soak) or an operator watches for leaks.
      const m = process.memoryUsage();
      const memory = {rss_mb: Math.round(m.rss / 2 ** 20), heap_used_mb: Math.round(m.heapUsed / 2 ** 20)};
      res.end(JSON.stringify({status: h.status, worker: h.workerId, in_flight: h.inFlight, kv_usage: h.kvUsage, ...(h.kvBlocks ? {kv_blocks: h.kvBlocks} : {}), ...(h.kvEventId !== undefined ? {kv_event_id: h.kvEventId} : {}), memory}));
    } else if (req.url === '/metrics') {
      const text = opts.metrics();
      res.writeHead(200, {'content-type': PROMETHEUS_CONTENT_TYPE});
      res.end(text);
    } else {
      res.writeHead(404, {'content-type': 'application/json'});
      res.end(JSON.stringify({error: 'not found'}));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
