import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {EMBEDDED_TEMPLATES} from '../templates/embedded.js';
import {loadProfile} from './profile-load.js';
import {loadPoints, profileJsonSchema, profileSchema, slosOf} from './profile.js';

const file = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  writeFileSync(join(dir, 'sla.yaml'), text);
  return join(dir, 'sla.yaml');
};

describe('bench profile', () => {
  it('defaults to one closed-loop run at concurrency 1 of 512/128-token chat requests', () => {
    const p = profileSchema.parse({});
    expect(p.workload).toMatchObject({isl: 512, osl: 128});
    expect(p.target).toMatchObject({endpoint: 'chat', ignoreEos: true, countTokens: 'tokenizer'});
    expect(loadPoints(p)).toEqual([{mode: 'concurrency', concurrency: 1}]);
    expect(slosOf(p)).toEqual([]);
  });

  it('lists are sweeps; one concurrency caps a rate sweep; a trace alone keeps its schedule', () => {
    expect(loadPoints(profileSchema.parse({load: {concurrency: [1, 4]}}))).toEqual([
      {mode: 'concurrency', concurrency: 1},
      {mode: 'concurrency', concurrency: 4},
    ]);
    expect(loadPoints(profileSchema.parse({load: {requestRate: [2, 8], concurrency: 16}}))).toEqual([
      {mode: 'rate', requestRate: 2, concurrency: 16},
      {mode: 'rate', requestRate: 8, concurrency: 16},
    ]);
    expect(loadPoints(profileSchema.parse({workload: {trace: 't.jsonl', speedup: 2}}))).toEqual([{mode: 'schedule', speedup: 2}]);
    expect(() => loadPoints(profileSchema.parse({load: {requestRate: [2, 8], concurrency: [1, 2]}}))).toThrow(/not both/);
  });

  it('flags override file keys', () => {
    const f = file('load:\n  concurrency: 4\nslo:\n  ttftMs: 300\n');
    const p = loadProfile(f, [{path: ['load', 'concurrency'], value: [1, 2], flag: '--concurrency'}]);
    expect(p.load.concurrency).toEqual([1, 2]);
    expect(slosOf(p)).toEqual([{metric: 'ttftMs', maxMs: 300}]);
  });

  it('errors name file:line and suggest the key that was meant', () => {
    const f = file('load:\n  concurrency: 4\n  requestRat: 3\n');
    expect(() => loadProfile(f)).toThrow(/sla\.yaml:3: load\.requestRat: unknown key\n {2}→ "requestRat" → did you mean "requestRate"\?/);
    const g = file('workload:\n  isl: -5\n');
    expect(() => loadProfile(g)).toThrow(/sla\.yaml:2: workload\.isl: /);
    expect(() => loadProfile(undefined, [{path: ['load', 'arrival'], value: 'bursty', flag: '--arrival'}])).toThrow(/flag --arrival: load\.arrival: .*\n {2}→ use one of: poisson, constant, gamma/);
    expect(() => loadProfile('/nonexistent/sla.yaml')).toThrow(/profile not found/);
    expect(() => loadProfile(file('- a\n- b\n'))).toThrow(/must be a mapping/);
  });

  it('exports a JSON Schema and ships a sample sla.yaml the schema accepts', () => {
    const s = profileJsonSchema() as {properties: Record<string, {properties?: Record<string, unknown>}>};
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['target', 'workload', 'load', 'slo', 'seed', 'outputDir']));
    expect(Object.keys(s.properties.slo!.properties!)).toEqual(expect.arrayContaining(['ttftMs', 'tpotMs', 'attainment']));
    const sample = profileSchema.parse(parse(EMBEDDED_TEMPLATES['bench/sla.yaml']!));
    expect(loadPoints(sample)).toHaveLength(5);
    expect(slosOf(sample).map((s) => s.metric)).toEqual(['ttftMs', 'tpotMs']);
  });
});
