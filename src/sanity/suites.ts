/**
 * Suites are data: each file in sanity/ (embedded in the binary as embedded-suites.ts) lists check
 * ids in the order they print, with their parameters (thresholds). A suite entry is an id alone
 * (`- system.os`) or `{id, params}`. An id no check has is an error naming the file and the id,
 * so a typo in a suite never silently drops a check.
 */
import {z} from 'zod';
import {UserError} from '../shared/errors.js';
import {closestMatch} from '../shared/suggest.js';
import {parseYamlOrJson} from '../config/layered.js';
import {AREAS, type Check, type CheckArea} from './check.js';
import {EMBEDDED_SUITES} from './embedded-suites.js';
import {CHECKS_BY_ID} from './registry.js';
import type {SelectedCheck} from './runner.js';

const entrySchema = z.union([
  z.string().min(1),
  z.strictObject({
    id: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}).describe('thresholds the check reads; unset ones take its defaults'),
  }),
]);

export const suiteSchema = z.strictObject({
  description: z.string().optional(),
  checks: z.array(entrySchema).min(1),
});

export interface Suite {
  /** "sanity/system.yaml" */
  file: string;
  checks: SelectedCheck[];
}

/** One suite file: YAML → schema → each id resolved to its check. */
export function parseSuite(file: string, text: string, registry: ReadonlyMap<string, Check> = CHECKS_BY_ID): Suite {
  const r = suiteSchema.safeParse(parseYamlOrJson(file, text));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UserError(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`, 'each suite is `checks:` with a list of check ids, or of {id, params}');
  }
  const checks = r.data.checks.map((entry): SelectedCheck => {
    const {id, params} = typeof entry === 'string' ? {id: entry, params: {}} : entry;
    const check = registry.get(id);
    if (!check) {
      const near = closestMatch(id, [...registry.keys()]);
      throw new UserError(`${file}: unknown check "${id}"${near ? ` (did you mean "${near}"?)` : ''}`, `known checks: ${[...registry.keys()].join(', ')}`);
    }
    return {check, params};
  });
  return {file, checks};
}

/** Every suite, by file name; a check listed twice (in one suite or two) is an error. */
export function loadSuites(files: Record<string, string> = EMBEDDED_SUITES, registry: ReadonlyMap<string, Check> = CHECKS_BY_ID): Suite[] {
  const suites = Object.keys(files)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => parseSuite(`sanity/${f}`, files[f]!, registry));
  const seen = new Map<string, string>();
  for (const s of suites) {
    for (const {check} of s.checks) {
      const other = seen.get(check.id);
      if (other) throw new UserError(`${s.file}: check "${check.id}" is already listed${other === s.file ? '' : ` in ${other}`}`, 'list each check once');
      seen.set(check.id, s.file);
    }
  }
  return suites;
}

/** The checks to run, grouped by area in AREAS order (system, gpu, deployment, services), suite order within. */
export function selectChecks(suites: readonly Suite[], only?: readonly CheckArea[]): SelectedCheck[] {
  const all = suites.flatMap((s) => s.checks);
  return AREAS.filter((a) => !only?.length || only.includes(a)).flatMap((area) => all.filter((s) => s.check.area === area));
}
