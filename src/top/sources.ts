/**
 * What `top` scrapes, as data: the processes of a `dynamo up` deployment (its run directory's
 * state.json and discovery records), or URLs given on the command line. Pure.
 *
 * Rules:
 * - The frontend is scraped at the deployment's client URL + /metrics; each worker at its metrics
 *   port, on the address it advertises in discovery (remote workers) or 127.0.0.1 when local.
 * - A URL is a base (`host:port`, `http://host:port`, `…/`) that gets /metrics, or a full URL with
 *   a path, kept as given. Its id is host:port (plus the path when two share one).
 */
import type {WorkerRecord} from '../runtime/discovery/types.js';
import {UserError} from '../shared/errors.js';
import type {RunState} from '../supervisor/run-dir.js';
import type {SourceRole} from './snapshot.js';
import type {SourceInfo} from './store.js';

const ROLES: ReadonlySet<string> = new Set<SourceRole>(['frontend', 'agg', 'prefill', 'decode']);

const hostPart = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);

/**
 * The sources of a deployment. `discovery`: the live records (undefined when they cannot be read);
 * a worker missing from them is `inDiscovery: false`.
 */
export function sourcesFromRunState(state: RunState, discovery?: readonly WorkerRecord[]): SourceInfo[] {
  const records = new Map((discovery ?? []).map((r) => [r.id, r]));
  const out: SourceInfo[] = [];
  for (const p of state.processes) {
    const role = ROLES.has(p.role) ? (p.role as SourceRole) : undefined;
    const common = {id: p.id, role, host: p.host, logFile: p.logFile, restarts: p.restarts, status: p.status};
    if (p.role === 'frontend') {
      out.push({...common, url: `${state.url.replace(/\/+$/, '')}/metrics`, kindHint: 'dynamo-frontend'});
      continue;
    }
    const port = p.ports.metrics;
    if (port === undefined) continue;
    const rec = records.get(p.id);
    // The registered address, else where the supervisor reaches it (etcd's records are not read here).
    const address = rec?.host && rec.host !== '0.0.0.0' ? rec.host : (p.address ?? (p.host === 'local' ? '127.0.0.1' : p.host));
    out.push({
      ...common,
      url: `http://${hostPart(address)}:${rec?.metricsPort ?? port}/metrics`,
      kindHint: 'dynamo-worker',
      ...(discovery ? {inDiscovery: records.has(p.id)} : {}),
    });
  }
  return out;
}

/** A metrics URL from what a user typed: a base gets /metrics, a full URL is kept. */
export function metricsUrl(input: string): string {
  const raw = input.trim();
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new UserError(`"${input}" is not a URL`, 'give a metrics endpoint as host:port, http://host:port or http://host:port/metrics');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UserError(`"${input}" is not an http(s) URL`, 'give a metrics endpoint as host:port, http://host:port or http://host:port/metrics');
  }
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/metrics';
  return u.toString();
}

/** Sources from `--url` values: role unknown, kind detected from what each serves. */
export function sourcesFromUrls(inputs: readonly string[]): SourceInfo[] {
  const urls = [...new Set(inputs.map(metricsUrl))].map((u) => new URL(u));
  const perHost = new Map<string, number>();
  for (const u of urls) perHost.set(u.host, (perHost.get(u.host) ?? 0) + 1);
  return urls.map((u) => ({id: perHost.get(u.host)! > 1 ? `${u.host}${u.pathname}` : u.host, url: u.toString(), host: u.hostname}));
}
