/** Reads a bench profile file, lays flags over it and parses once, with errors that name file:line or flag. */
import {resolve} from 'node:path';
import {invalidInput, parseLayered, readFileLayer} from '../config/layered.js';
import {UserError} from '../shared/errors.js';
import {type BenchProfile, profileSchema} from './profile.js';

/** A flag's value for a profile key (undefined = not given). */
export interface ProfileOverride {
  path: readonly string[];
  value: unknown;
  flag: string;
}

export function loadProfile(file: string | undefined, overrides: readonly ProfileOverride[] = [], cwd = process.cwd()): BenchProfile {
  const path = file ? resolve(cwd, file) : undefined;
  const layer = path
    ? readFileLayer(path, {
        missing: () => new UserError(`profile not found: ${path}`, 'check the --profile path; `dynamo bench --print-template` prints a commented sla.yaml to start from'),
        notMapping: () => new UserError(`${path}: a profile must be a mapping of keys to values`, 'start from `dynamo bench --print-template`'),
      })
    : undefined;
  const r = parseLayered({
    schema: profileSchema,
    file: layer,
    overrides: overrides.map((o) => ({path: o.path, value: o.value, source: {kind: 'flag', name: o.flag}})),
    fallbackFix: (key) => `fix "${key}" (\`dynamo bench --print-schema\` lists every key)`,
    unsourced: 'flags',
  });
  if ('issues' in r) throw invalidInput('bench profile', r.issues);
  return r.data;
}
