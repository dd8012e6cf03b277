/**
 * Every leaf of the config schema has an environment twin: `DYN_` + its key path in UPPER_SNAKE
 * (`router.overlapWeight` → `DYN_ROUTER_OVERLAP_WEIGHT`). The table is derived from the schema, so a
 * new key gets its twin for free and `dynamo config env` always lists them all.
 */
import {configJsonSchema} from './schema.js';

export type LeafType = 'string' | 'number' | 'integer' | 'boolean' | 'string[]';

export interface EnvTwin {
  env: string;
  path: string[];
  type: LeafType;
  choices?: string[];
  description?: string;
  default?: unknown;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  description?: string;
  default?: unknown;
};

export function envName(path: readonly string[]): string {
  return `DYN_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

function leafType(s: JsonSchema): LeafType | undefined {
  if (s.type === 'array' && s.items?.type === 'string') return 'string[]';
  if (s.type === 'string' || s.type === 'number' || s.type === 'integer' || s.type === 'boolean') return s.type;
  return undefined;
}

function walk(s: JsonSchema, path: string[], out: EnvTwin[]): void {
  if (s.type === 'object' && s.properties) {
    for (const [k, v] of Object.entries(s.properties)) walk(v, [...path, k], out);
    return;
  }
  const type = leafType(s);
  if (!type) return; // records (hosts) and other structured values live in files only
  out.push({
    env: envName(path),
    path,
    type,
    choices: s.enum?.map(String),
    description: s.description,
    default: s.default,
  });
}

let cached: EnvTwin[] | undefined;
export function envTwins(): EnvTwin[] {
  cached ??= (() => {
    const out: EnvTwin[] = [];
    walk(configJsonSchema() as JsonSchema, [], out);
    return out;
  })();
  return cached;
}

/** Turns an env string into the leaf's type; returns an error message when it cannot. */
export function coerceEnv(twin: EnvTwin, raw: string): {value: unknown} | {error: string} {
  const v = raw.trim();
  switch (twin.type) {
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(v)) return {value: true};
      if (/^(0|false|no|off)$/i.test(v)) return {value: false};
      return {error: 'expected a boolean (true/false, 1/0)'};
    case 'number':
    case 'integer': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) return {error: `expected a number, got "${raw}"`};
      return {value: n};
    }
    case 'string[]':
      return {value: v === '' ? [] : v.split(',').map((x) => x.trim())};
    default:
      return {value: raw};
  }
}
