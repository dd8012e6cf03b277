/**
 * The effective config as `dynamo config print` shows it: one row per leaf with where it came
 * from, and the JSON form; secrets (src/shared/secrets.ts) masked in both.
 */
import {MASK, SECRET_CONFIG_KEYS, maskSecret} from '../shared/secrets.js';
import {type LoadedConfig, explainConfig} from './load.js';

export interface PrintableConfig {
  file?: string;
  rows: {key: string; value: string; source: string}[];
  json: {file: string | null; config: unknown; sources: Record<string, string>};
}

/** A copy of the config with every secret key that is set replaced by the mask. */
export function maskConfig<T>(config: T): T {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const key of SECRET_CONFIG_KEYS) {
    const path = key.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const k of path.slice(0, -1)) node = node?.[k] as Record<string, unknown> | undefined;
    const leaf = path[path.length - 1]!;
    if (node && node[leaf] !== undefined) node[leaf] = MASK;
  }
  return copy as T;
}

export function printableConfig(loaded: LoadedConfig): PrintableConfig {
  const explained = explainConfig(loaded).map((r) => ({...r, value: maskSecret(r.key, r.value)}));
  return {
    file: loaded.file,
    rows: explained.map((r) => ({key: r.key, value: typeof r.value === 'string' ? r.value : JSON.stringify(r.value), source: r.source})),
    json: {file: loaded.file ?? null, config: maskConfig(loaded.config), sources: Object.fromEntries(explained.map((r) => [r.key, r.source]))},
  };
}
