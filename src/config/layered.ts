/**
 * One loader for every layered input (deployment config, bench profile): a YAML/JSON file, then
 * overrides (env twins, flags) laid over it key by key, each remembering its source, then one parse
 * by a zod schema. Problems are formatted here only: where (`file:line`, `env NAME`, `flag --x`),
 * which key, what is wrong, and what to do ("did you mean", "use one of", the schema's own fix).
 */
import {readFileSync} from 'node:fs';
import {parseDocument} from 'yaml';
import {z} from 'zod';
import {UserError} from '../shared/errors.js';
import {closestMatch} from '../shared/suggest.js';

export type Source =
  | {kind: 'default'}
  | {kind: 'file'; file: string}
  | {kind: 'env'; name: string}
  | {kind: 'flag'; name: string};

/** A value set by env or flag at one key path (undefined = not given). */
export interface Override {
  path: readonly string[];
  value: unknown;
  source: Source;
}

/** A parsed file: `text` is kept to find the line of a key in error messages. */
export interface FileLayer {
  file: string;
  text: string;
  data: Obj;
}

export interface LayeredRequest<T> {
  schema: z.ZodType<T>;
  file?: FileLayer;
  /** Applied in order: a later override of the same key wins. */
  overrides?: readonly Override[];
  /** A fix the caller knows better than the generic ones (checked first; undefined = no opinion). */
  fix?: (issue: z.core.$ZodIssue, key: string) => string | undefined;
  /** The fix for problems no rule here knows. */
  fallbackFix: (key: string) => string;
  /** Where a problem is when no file or override set the key. */
  unsourced: string;
}

export type LayeredResult<T> = {data: T; sources: Map<string, Source>} | {issues: string[]};

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

/** Standard input, read once: the config is looked at more than once (does it set a model? then load it). */
let stdinText: string | undefined;

/** Reads and parses a file that must hold a mapping; the caller words the two ways it can fail. */
export function readFileLayer(file: string, errors: {missing: () => UserError; notMapping: () => UserError}): FileLayer {
  // "-" is standard input (how `dynamo sanity` hands an SSH host the deployment's config).
  const fromStdin = file === '-';
  const name = fromStdin ? 'stdin' : file;
  let text: string;
  try {
    text = fromStdin ? (stdinText ??= readFileSync(0, 'utf8')) : readFileSync(file, 'utf8');
  } catch {
    throw errors.missing();
  }
  const data = parseYamlOrJson(name, text);
  if (!isObj(data)) throw errors.notMapping();
  return {file: name, text, data};
}

/** The 1-based line of the deepest part of `path` the document has (the key itself when present). */
export function lineOf(text: string, path: readonly (string | number)[]): number | undefined {
  const doc = parseDocument(text);
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as {range?: [number, number]} | undefined;
    const parent = doc.getIn(path.slice(0, n - 1), true) as {items?: {key?: {value?: unknown; range?: [number, number]}}[]} | undefined;
    const keyNode = parent?.items?.find?.((it) => it.key?.value === path[n - 1])?.key;
    const at = keyNode?.range?.[0] ?? node?.range?.[0];
    if (at !== undefined) return text.slice(0, at).split('\n').length;
  }
  return undefined;
}

/** The source of `path`, or of the nearest enclosing key that has one. */
export function sourceFor(sources: ReadonlyMap<string, Source>, path: readonly (string | number)[]): Source | undefined {
  for (let n = path.length; n > 0; n--) {
    const s = sources.get(path.slice(0, n).join('.'));
    if (s) return s;
  }
  return undefined;
}

type JsonSchema = {properties?: Record<string, JsonSchema>; additionalProperties?: unknown};
const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  let s = jsonSchemas.get(schema);
  if (!s) {
    s = z.toJSONSchema(schema, {io: 'input', unrepresentable: 'any'}) as JsonSchema;
    jsonSchemas.set(schema, s);
  }
  return s;
}

/** Keys the schema allows at `path` (for "did you mean" on unknown keys); records follow their values. */
export function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let s = jsonSchemaOf(schema);
  for (const p of path) {
    if (s.properties && typeof p === 'string' && s.properties[p]) s = s.properties[p];
    else if (isObj(s.additionalProperties)) s = s.additionalProperties as JsonSchema;
    else return [];
  }
  return Object.keys(s.properties ?? {});
}

function setPath(target: Obj, path: readonly string[], value: unknown): void {
  let o = target;
  for (const k of path.slice(0, -1)) {
    if (!isObj(o[k])) o[k] = {};
    o = o[k] as Obj;
  }
  o[path[path.length - 1]!] = value;
}

/** Records the source of every leaf of `data`: arrays and records (mappings of names, like `hosts`) are leaves. */
function recordLeaves(schema: JsonSchema | undefined, data: Obj, prefix: string[], source: Source, out: Map<string, Source>): void {
  for (const [k, v] of Object.entries(data)) {
    const path = [...prefix, k];
    const sub = schema?.properties?.[k];
    if (isObj(v) && sub?.properties) recordLeaves(sub, v, path, source, out);
    else out.set(path.join('.'), source);
  }
}

/** What to do about one problem: the caller's fix, the schema's own (a refinement's `params.fix`), or a generic one. */
export function issueFix(schema: z.ZodType, issue: z.core.$ZodIssue, fallback: (key: string) => string): string {
  const key = issue.path.join('.');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(schema, issue.path as (string | number)[]);
      const hints = issue.keys.map((k) => {
        const near = closestMatch(k, allowed);
        return near ? `"${k}" → did you mean "${near}"?` : `remove "${k}"`;
      });
      return `${hints.join('; ')} (allowed here: ${allowed.join(', ')})`;
    }
    case 'invalid_value':
      return `use one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_type':
      return `set "${key}" to a ${issue.expected}`;
    case 'custom':
      return typeof issue.params?.fix === 'string' ? issue.params.fix : fallback(key);
    default:
      return fallback(key);
  }
}

function issueKey(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const base = issue.path.join('.');
    return issue.keys.map((k) => (base ? `${base}.${k}` : k)).join(', ');
  }
  return issue.path.join('.') || '(root)';
}

function describeSource(s: Source | undefined, req: LayeredRequest<unknown>, path: readonly (string | number)[]): string {
  if (s?.kind === 'env') return `env ${s.name}`;
  if (s?.kind === 'flag') return `flag ${s.name}`;
  if (!req.file) return req.unsourced;
  const line = lineOf(req.file.text, path);
  return `${req.file.file}${line ? `:${line}` : ''}`;
}

/** file < overrides, parsed once: the data and where each leaf came from, or every problem found, formatted. */
export function parseLayered<T>(req: LayeredRequest<T>): LayeredResult<T> {
  const sources = new Map<string, Source>();
  const data: Obj = structuredClone(req.file?.data ?? {});
  if (req.file) recordLeaves(jsonSchemaOf(req.schema), data, [], {kind: 'file', file: req.file.file}, sources);
  for (const o of req.overrides ?? []) {
    if (o.value === undefined) continue;
    setPath(data, o.path, o.value);
    // The override replaces the whole value there, so leaves the file had below it are gone.
    const key = o.path.join('.');
    for (const k of [...sources.keys()]) if (k.startsWith(`${key}.`)) sources.delete(k);
    sources.set(key, o.source);
  }
  const parsed = req.schema.safeParse(data);
  if (parsed.success) return {data: parsed.data, sources};
  const issues = parsed.error.issues.map((issue) => {
    const at = (issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path) as (string | number)[];
    const where = describeSource(sourceFor(sources, at), req as LayeredRequest<unknown>, at);
    const what = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    const fix = req.fix?.(issue, issue.path.join('.')) ?? issueFix(req.schema, issue, req.fallbackFix);
    return `${where}: ${issueKey(issue)}: ${what}\n  → ${fix}`;
  });
  return {issues};
}

/** One UserError listing every problem: "invalid config (2 problems)\n…". */
export function invalidInput(what: string, issues: readonly string[]): UserError {
  return new UserError(`invalid ${what}${issues.length > 1 ? ` (${issues.length} problems)` : ''}\n${issues.join('\n')}`);
}
