import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {Check} from './check.js';
import {EMBEDDED_SUITES} from './embedded-suites.js';
import {ALL_CHECKS, CHECKS_BY_ID} from './registry.js';
import {loadSuites, parseSuite, selectChecks} from './suites.js';

const folder = join(import.meta.dirname, '../../sanity');

const fake = (id: string, area: Check['area']): Check => ({id, area, title: id, run: async () => ({status: 'pass', finding: ''})});
const registry = new Map(
  [fake('system.os', 'system'), fake('system.shm', 'system'), fake('gpu.count', 'gpu'), fake('deploy.ports', 'deployment')].map((c) => [c.id, c]),
);

describe('sanity suites', () => {
  it('the binary embeds exactly the files in sanity/ (run `npm run build` after editing)', () => {
    const files = readdirSync(folder).sort();
    expect(Object.keys(EMBEDDED_SUITES).sort()).toEqual(files);
    for (const f of files) expect(EMBEDDED_SUITES[f], f).toBe(readFileSync(join(folder, f), 'utf8'));
  });

  it('every suite parses, and every check this build has is in exactly one of them', () => {
    const listed = loadSuites().flatMap((s) => s.checks.map((c) => c.check.id));
    expect([...listed].sort()).toEqual(ALL_CHECKS.map((c) => c.id).sort());
    expect(CHECKS_BY_ID.size).toBe(ALL_CHECKS.length); // ids are unique
  });

  it('reads ids alone or with their parameters, in file order', () => {
    const s = parseSuite('sanity/x.yaml', 'checks:\n  - system.os\n  - id: system.shm\n    params: {minGiB: 4}\n', registry);
    expect(s.checks.map((c) => [c.check.id, c.params])).toEqual([
      ['system.os', {}],
      ['system.shm', {minGiB: 4}],
    ]);
  });

  it('rejects an unknown check id, naming the file, the id and the nearest known one', () => {
    expect(() => parseSuite('sanity/system.yaml', 'checks:\n  - system.sh\n', registry)).toThrow('sanity/system.yaml: unknown check "system.sh" (did you mean "system.shm"?)');
    const caught = (() => {
      try {
        parseSuite('sanity/system.yaml', 'checks:\n  - nvlink.bandwidth\n', registry);
      } catch (e) {
        return e as Error & {hint?: string};
      }
    })();
    expect(caught?.message).toBe('sanity/system.yaml: unknown check "nvlink.bandwidth"');
    expect(caught?.hint).toBe('known checks: system.os, system.shm, gpu.count, deploy.ports');
  });

  it('rejects a malformed suite with the file and the key', () => {
    expect(() => parseSuite('sanity/gpu.yaml', 'check:\n  - gpu.count\n', registry)).toThrow(/^sanity\/gpu\.yaml: /);
    expect(() => parseSuite('sanity/gpu.yaml', 'checks:\n  - id: gpu.count\n    parms: {}\n', registry)).toThrow(/sanity\/gpu\.yaml: checks\.0/);
    expect(() => parseSuite('sanity/gpu.yaml', 'checks: [gpu.count\n', registry)).toThrow(/sanity\/gpu\.yaml.*not valid YAML/);
  });

  it('rejects a check listed twice, across suites too', () => {
    const files = {'a.yaml': 'checks: [system.os]\n', 'b.yaml': 'checks: [gpu.count, system.os]\n'};
    expect(() => loadSuites(files, registry)).toThrow('sanity/b.yaml: check "system.os" is already listed in sanity/a.yaml');
  });

  it('selects checks area by area (system, gpu, deployment), and only the areas asked for', () => {
    const suites = loadSuites({'deployment.yaml': 'checks: [deploy.ports]\n', 'gpu.yaml': 'checks: [gpu.count]\n', 'system.yaml': 'checks: [system.shm, system.os]\n'}, registry);
    expect(selectChecks(suites).map((s) => s.check.id)).toEqual(['system.shm', 'system.os', 'gpu.count', 'deploy.ports']);
    expect(selectChecks(suites, ['gpu', 'deployment']).map((s) => s.check.id)).toEqual(['gpu.count', 'deploy.ports']);
    expect(selectChecks(suites, []).length).toBe(4);
  });
});
