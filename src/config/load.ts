/**
 * Loads the effective config: schema defaults < config file < DYN_* env twins < flags.
 * The layers are merged into one plain object, parsed once by the schema, and every leaf keeps
 * the layer it came from so `dynamo config print` and error messages can say where a value came from.
 */
import {resolve} from 'node:path';
import {cosmiconfigSync} from 'cosmiconfig';
import {UserError} from '../shared/errors.js';
import {coerceEnv, envTwins} from './env-twins.js';
import {type Override, type Source, invalidInput, parseLayered, parseYamlOrJson, readFileLayer, sourceFor} from './layered.js';
import {type DynamoConfig, buildConfigSchema, configSchema} from './schema.js';

export type {Source} from './layered.js';

/** A flag that sets one config key; commands declare theirs in one table (commands/flags/config-flags.ts). */
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
  /**
   * Accept what this build cannot run yet (engines other than mocker, engine arguments, etcd):
   * `dynamo sanity` judges a box for the deployment the user means, and says itself what is missing.
   * Never set by commands that start processes.
   */
  allowUnavailable?: boolean;
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

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const FILE_ERRORS = (file: string) => ({
  missing: () => new UserError(`config file not found: ${file}`, 'check the --config path (or DYN_CONFIG)'),
  notMapping: () => new UserError(`${file}: the config must be a mapping of keys to values`, 'start from `dynamo init`, which writes a commented example'),
});

function findConfigFile(cwd: string, explicit?: string): string | undefined {
  if (explicit) return explicit === '-' ? '-' : resolve(cwd, explicit);
  return cosmiconfigSync('dynamo', {
    searchPlaces: CONFIG_SEARCH_PLACES,
    searchStrategy: 'none',
    loaders: {'.yaml': (f, t) => parseYamlOrJson(f, t), '.yml': (f, t) => parseYamlOrJson(f, t), noExt: (f, t) => parseYamlOrJson(f, t)},
  }).search(cwd)?.filepath;
}

/** DYN_* twins that are set, as overrides; a malformed one is an error naming the variable. */
function envOverrides(env: NodeJS.ProcessEnv): Override[] {
  const out: Override[] = [];
  const errors: string[] = [];
  for (const twin of envTwins()) {
    const raw = env[twin.env];
    if (raw === undefined) continue;
    const r = coerceEnv(twin, raw);
    if ('error' in r) errors.push(`env ${twin.env}: ${r.error}`);
    else out.push({path: twin.path, value: r.value, source: {kind: 'env', name: twin.env}});
  }
  if (errors.length) throw new UserError(errors.join('\n'), 'fix or unset the variable');
  return out;
}

// Built on first use: only `dynamo sanity` loads with it.
let permissive: typeof configSchema | undefined;
const permissiveSchema = () => (permissive ??= buildConfigSchema({allowUnavailable: true}));

function configFileOf(opts: LoadOptions) {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const path = findConfigFile(cwd, opts.configFile ?? env.DYN_CONFIG);
  return {path, env, file: path ? readFileLayer(path, FILE_ERRORS(path)) : undefined};
}

/** Whether a model is given at all (file, DYN_MODEL or --model): without one there is no deployment to judge. */
export function configSetsModel(opts: LoadOptions = {}): boolean {
  const {env, file} = configFileOf(opts);
  return file?.data.model !== undefined || env.DYN_MODEL !== undefined || (opts.flags ?? []).some((f) => f.path.join('.') === 'model' && f.value !== undefined);
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const {path, env, file} = configFileOf(opts);
  const flags: Override[] = (opts.flags ?? []).map((f) => ({path: f.path, value: f.value, source: {kind: 'flag', name: f.flag}}));
  const r = parseLayered({
    schema: opts.allowUnavailable ? permissiveSchema() : configSchema,
    file,
    overrides: [...envOverrides(env), ...flags],
    fix: (issue, key) => (issue.code === 'invalid_type' && key === 'model' ? 'set `model:` in the config file, DYN_MODEL, or --model (aliases: `dynamo models`)' : undefined),
    fallbackFix: (key) => `change "${key}"`,
    unsourced: 'config (no config file found)',
  });
  if ('issues' in r) throw invalidInput('config', r.issues);
  return {config: r.data, file: path, sources: r.sources};
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
