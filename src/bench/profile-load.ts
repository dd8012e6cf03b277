/** Reads a bench profile file, lays flags over it and parses once, with errors that name file:line or flag. */
import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import type {z} from 'zod';
import {UserError} from '../shared/errors.js';
import {closestMatch} from '../shared/suggest.js';
import {lineOf, parseYamlOrJson} from '../config/load.js';
import {type BenchProfile, profileSchema} from './profile.js';

/** A flag's value for a profile key (undefined = not given). */
export interface ProfileOverride {
  path: readonly string[];
  value: unknown;
  flag: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function keysAt(path: readonly (string | number)[]): string[] {
  let s: any = profileSchema;
  for (const k of path) s = s?.shape?.[k] ?? s?.def?.innerType?.shape?.[k];
  const shape = s?.shape ?? s?.def?.innerType?.shape;
  return shape ? Object.keys(shape) : [];
}

export function loadProfile(file: string | undefined, overrides: readonly ProfileOverride[] = [], cwd = process.cwd()): BenchProfile {
  let data: Obj = {};
  let text: string | undefined;
  let path: string | undefined;
  if (file) {
    path = resolve(cwd, file);
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new UserError(`profile not found: ${path}`, 'check the --profile path; `dynamo bench --print-template` prints a commented sla.yaml to start from');
    }
    const parsed = parseYamlOrJson(path, text);
    if (!isObj(parsed)) throw new UserError(`${path}: a profile must be a mapping of keys to values`, 'start from `dynamo bench --print-template`');
    data = parsed;
  }
  const fromFlag = new Map<string, string>();
  for (const o of overrides) {
    if (o.value === undefined) continue;
    let at = data;
    for (const k of o.path.slice(0, -1)) {
      if (!isObj(at[k])) at[k] = {};
      at = at[k] as Obj;
    }
    at[o.path.at(-1)!] = o.value;
    fromFlag.set(o.path.join('.'), o.flag);
  }
  const r = profileSchema.safeParse(data);
  if (r.success) return r.data;
  const lines = r.error.issues.map((issue) => {
    const at = (issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path) as (string | number)[];
    const key = issue.code === 'unrecognized_keys' ? at.join('.') : issue.path.join('.');
    const flag = fromFlag.get(issue.path.join('.'));
    const line = text && !flag ? lineOf(text, at) : undefined;
    const where = flag ? `flag ${flag}` : path ? `${path}${line ? `:${line}` : ''}` : 'flags';
    return `${where}: ${key}: ${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}\n  → ${fixFor(issue)}`;
  });
  throw new UserError(`invalid bench profile${lines.length > 1 ? ` (${lines.length} problems)` : ''}\n${lines.join('\n')}`);
}

function fixFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const allowed = keysAt(issue.path as (string | number)[]);
    const hints = issue.keys.map((k) => {
      const near = closestMatch(k, allowed);
      return near ? `"${k}" → did you mean "${near}"?` : `remove "${k}"`;
    });
    return `${hints.join('; ')} (allowed here: ${allowed.join(', ')})`;
  }
  if (issue.code === 'invalid_value') return `use one of: ${issue.values.map(String).join(', ')}`;
  return `fix "${issue.path.join('.')}" (\`dynamo bench --print-schema\` lists every key)`;
}
