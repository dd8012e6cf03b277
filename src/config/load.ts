/**
 * Loads the effective config: schema defaults < config file < DYN_* env twins < flags.
 * The layers are merged into one plain object, parsed once by the schema, and every leaf keeps
 * the layer it came from so `dynamo config print` and error messages can say where a value came from.
 */
import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {cosmiconfigSync} from 'cosmiconfig';
import {parseDocument} from 'yaml';
import type {z} from 'zod';
import {UserError} from '../shared/errors.js';
import {closestMatch} from '../shared/suggest.js';
import {coerceEnv, envTwins, keysAt} from './env-twins.js';
import {type DynamoConfig, configSchema} from './schema.js';

export type Source =
  | {kind: 'default'}
  | {kind: 'file'; file: string}
  | {kind: 'env'; name: string}
  | {kind: 'flag'; name: string};

/** A flag that sets one config key; commands declare theirs in one table (flags.ts). */
export interface FlagValue {
  flag: string;
  path: string[];
  value: unknown;
}

export interface LoadOptions {
  cwd?: string;
  /** Explicit config file (--config / DYN_CONFIG); otherwise searched for in cwd. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  flags?: FlagValue[];
}

export interface LoadedConfig {
  config: DynamoConfig;
  file?: string;
  /** Source of each leaf that was set explicitly, keyed by dotted path. */
  sources: Map<string, Source>;
}

export const CONFIG_SEARCH_PLACES = [
  'dynamo.config.yaml',
  'dynamo.config.yml',
  'dynamo.config.json',
  '.dynamorc',
  '.dynamorc.yaml',
  '.dynamorc.yml',
  '.dynamorc.json',
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseYamlOrJson(file: string, text: string): unknown {
  const doc = parseDocument(text, {prettyErrors: true});
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new UserError(
      `${file}${line ? `:${line}` : ''}: not valid YAML/JSON: ${e.message.split('\n')[0]}`,
      'fix the syntax (indentation, quotes, colons), or regenerate the file with `dynamo init`',
    );
  }
  return doc.toJS() ?? {};
}

function readConfigFile(cwd: string, explicit?: string): {file?: string; data: Obj} {
  let file: string | undefined;
  if (explicit) {
    file = resolve(cwd, explicit);
    try {
      readFileSync(file);
    } catch {
      throw new UserError(`config file not found: ${file}`, 'check the --config path (or DYN_CONFIG)');
    }
  } else {
    const found = cosmiconfigSync('dynamo', {
      searchPlaces: CONFIG_SEARCH_PLACES,
      searchStrategy: 'none',
      loaders: {'.yaml': (f, t) => parseYamlOrJson(f, t), '.yml': (f, t) => parseYamlOrJson(f, t), noExt: (f, t) => parseYamlOrJson(f, t)},
    }).search(cwd);
    file = found?.filepath;
  }
  if (!file) return {data: {}};
  const data = parseYamlOrJson(file, readFileSync(file, 'utf8'));
  if (!isObj(data)) {
    throw new UserError(`${file}: the config must be a mapping of keys to values`, 'start from `dynamo init`, which writes a commented example');
  }
  return {file, data};
}

function setPath(target: Obj, path: readonly string[], value: unknown): void {
  let o = target;
  for (const k of path.slice(0, -1)) {
    if (!isObj(o[k])) o[k] = {};
    o = o[k] as Obj;
  }
  o[path[path.length - 1]!] = value;
}

/** Records the source of every leaf in `data` (arrays and records count as leaves below their key). */
function recordLeaves(data: Obj, prefix: string[], source: Source, out: Map<string, Source>): void {
  for (const [k, v] of Object.entries(data)) {
    const path = [...prefix, k];
    if (isObj(v) && k !== 'hosts') recordLeaves(v, path, source, out);
    else out.set(path.join('.'), source);
  }
}

function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = {...base};
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

function describeSource(s: Source | undefined, file: string | undefined, text: string | undefined, path: (string | number)[]): string {
  if (!s) {
    if (!file) return 'config (no config file found)';
    const line = text ? lineOf(text, path) : undefined;
    return `${file}${line ? `:${line}` : ''}`;
  }
  switch (s.kind) {
    case 'file': {
      const line = text ? lineOf(text, path) : undefined;
      return `${s.file}${line ? `:${line}` : ''}`;
    }
    case 'env':
      return `env ${s.name}`;
    case 'flag':
      return `flag ${s.name}`;
    default:
      return 'default';
  }
}

export function lineOf(text: string, path: (string | number)[]): number | undefined {
  const doc = parseDocument(text);
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as {range?: [number, number]} | undefined;
    const pair = n > 0 ? (doc.getIn(path.slice(0, n - 1), true) as any) : undefined;
    const keyNode = pair?.items?.find?.((it: any) => it.key?.value === path[n - 1])?.key;
    const at = keyNode?.range?.[0] ?? node?.range?.[0];
    if (at !== undefined) return text.slice(0, at).split('\n').length;
  }
  return undefined;
}

function sourceFor(sources: Map<string, Source>, path: (string | number)[]): Source | undefined {
  for (let n = path.length; n > 0; n--) {
    const s = sources.get(path.slice(0, n).join('.'));
    if (s) return s;
  }
  return undefined;
}

function fixFor(issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(issue.path as (string | number)[]);
      const hints = issue.keys.map((k) => {
        const near = closestMatch(k, allowed);
        return near ? `"${k}" → did you mean "${near}"?` : `remove "${k}"`;
      });
      return `${hints.join('; ')} (allowed here: ${allowed.join(', ')})`;
    }
    case 'invalid_value':
      return `use one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_type':
      if (key === 'model') return 'set `model:` in the config file, DYN_MODEL, or --model (aliases: `dynamo models`)';
      return `set "${key}" to a ${issue.expected}`;
    default:
      return `change "${key}"`;
  }
}

function issueKey(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const base = issue.path.join('.');
    return issue.keys.map((k) => (base ? `${base}.${k}` : k)).join(', ');
  }
  return issue.path.join('.') || '(root)';
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const sources = new Map<string, Source>();
  const {file, data: fileData} = readConfigFile(cwd, opts.configFile ?? env.DYN_CONFIG);
  if (file) recordLeaves(fileData, [], {kind: 'file', file}, sources);

  const envData: Obj = {};
  const envErrors: string[] = [];
  for (const twin of envTwins()) {
    const raw = env[twin.env];
    if (raw === undefined) continue;
    const r = coerceEnv(twin, raw);
    if ('error' in r) envErrors.push(`env ${twin.env}: ${r.error}`);
    else {
      setPath(envData, twin.path, r.value);
      sources.set(twin.path.join('.'), {kind: 'env', name: twin.env});
    }
  }
  if (envErrors.length) throw new UserError(envErrors.join('\n'), 'fix or unset the variable');

  const flagData: Obj = {};
  for (const f of opts.flags ?? []) {
    if (f.value === undefined) continue;
    setPath(flagData, f.path, f.value);
    sources.set(f.path.join('.'), {kind: 'flag', name: f.flag});
  }

  const merged = deepMerge(deepMerge(fileData, envData), flagData);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const text = file ? readFileSync(file, 'utf8') : undefined;
    const lines = parsed.error.issues.map((issue) => {
      const at = (issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path) as string[];
      const where = describeSource(sourceFor(sources, at), file, text, at);
      const what = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
      return `${where}: ${issueKey(issue)}: ${what}\n  → ${fixFor(issue)}`;
    });
    const head = lines.length === 1 ? 'invalid config' : `invalid config (${lines.length} problems)`;
    throw new UserError(`${head}\n${lines.join('\n')}`);
  }
  return {config: parsed.data, file, sources};
}

/** Every leaf of the effective config with its value and where it came from. */
export function explainConfig(loaded: LoadedConfig): {key: string; value: unknown; source: string}[] {
  const out: {key: string; value: unknown; source: string}[] = [];
  const visit = (v: unknown, path: string[]) => {
    if (isObj(v) && path[0] !== 'hosts' && Object.keys(v).length) {
      for (const [k, c] of Object.entries(v)) visit(c, [...path, k]);
      return;
    }
    if (isObj(v) && path[0] === 'hosts' && path.length < 2 && Object.keys(v).length) {
      for (const [k, c] of Object.entries(v)) visit(c, [...path, k]);
      return;
    }
    const s = sourceFor(loaded.sources, path);
    const source = !s ? 'default' : s.kind === 'file' ? `file ${s.file}` : s.kind === 'default' ? 'default' : `${s.kind} ${s.name}`;
    out.push({key: path.join('.'), value: v, source});
  };
  visit(loaded.config, []);
  return out;
}
