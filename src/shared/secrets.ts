/**
 * Values that must never be printed: in plans (`up --dry-run`), `config print`, logs. One list,
 * so a new secret is masked everywhere at once. Secrets reach processes through their environment
 * (argv is world-readable in `ps`).
 */

/** Environment variables that carry secrets. */
export const SECRET_ENV: ReadonlySet<string> = new Set(['DYN_FRONTEND_API_KEY', 'DYN_REQUEST_PLANE_TOKEN']);

/** Config keys (dotted paths) that hold secrets. */
export const SECRET_CONFIG_KEYS: ReadonlySet<string> = new Set(['frontend.apiKey']);

export const MASK = '***';

/** The value to show for `key` (an env name or a dotted config path). */
export function maskSecret(key: string, value: unknown): unknown {
  return SECRET_ENV.has(key) || SECRET_CONFIG_KEYS.has(key) ? MASK : value;
}
