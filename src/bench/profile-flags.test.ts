import {Parser} from '@oclif/core';
import {describe, expect, it} from 'vitest';
import Bench from '../commands/bench.js';
import {GOODPUT_NAMES} from './goodput.js';
import {loadProfile} from './profile-load.js';
import {GOODPUT_FLAG, PROFILE_FLAGS, profileOverrides} from './profile-flags.js';
import {profileJsonSchema} from './profile.js';

/** Flags of `dynamo bench` that set no profile key. */
const COMMAND_ONLY = ['profile', 'json', 'print-schema', 'print-template'];

/** Every leaf key of sla.yaml, dotted ("load.concurrency"). */
function profileLeaves(node = profileJsonSchema() as {properties?: Record<string, any>}, prefix = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([k, v]) => (v.properties ? profileLeaves(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('bench flags and profile keys', () => {
  it('every flag of `dynamo bench` sets a profile key or is one of its own, and every key in the table has its flag', () => {
    const flags = Object.keys(Bench.flags);
    expect(flags.filter((f) => !(f in PROFILE_FLAGS) && f !== GOODPUT_FLAG && !COMMAND_ONLY.includes(f))).toEqual([]);
    expect(Object.keys(PROFILE_FLAGS).filter((f) => !flags.includes(f))).toEqual([]);
    expect(flags).toContain(GOODPUT_FLAG);
  });

  it('each flag sets a real leaf of the profile, and no key has two flags', () => {
    const leaves = profileLeaves();
    const keys = [...Object.values(PROFILE_FLAGS), ...new Set(Object.values(GOODPUT_NAMES).map((m) => `slo.${m}`))];
    expect(keys.filter((k) => !leaves.includes(k))).toEqual([]);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('flags given land on their keys; flags not given leave the file alone', () => {
    const p = loadProfile(
      undefined,
      profileOverrides({url: 'http://h:1/v1', concurrency: [1, 4], 'request-timeout': 30, 'ignore-eos': false, goodput: 'ttft:500 itl:20', 'output-dir': 'out', model: undefined}),
    );
    expect(p.target).toMatchObject({url: 'http://h:1/v1', timeoutS: 30, ignoreEos: false});
    expect(p.target.model).toBeUndefined();
    expect(p.load.concurrency).toEqual([1, 4]);
    expect(p.slo).toMatchObject({ttftMs: 500, tpotMs: 20});
    expect(p.outputDir).toBe('out');
  });

  it('a value out of range names the flag it came from', () => {
    expect(() => loadProfile(undefined, profileOverrides({'request-timeout': -1}))).toThrow(/flag --request-timeout: target\.timeoutS: /);
    expect(() => loadProfile(undefined, profileOverrides({goodput: 'tpot:5', 'slo-attainment': 2}))).toThrow(/flag --slo-attainment: slo\.attainment: /);
  });

  it('number flags read numbers and lists, and refuse anything else naming the flag', async () => {
    const {flags} = await Parser.parse(['--concurrency', '1, 2,4', '--request-rate', '2.5', '--duration', '60', '--slo-attainment', '0.95'], {flags: Bench.flags});
    expect(flags).toMatchObject({concurrency: [1, 2, 4], 'request-rate': [2.5], duration: 60, 'slo-attainment': 0.95});
    await expect(Parser.parse(['--concurrency', 'lots'], {flags: Bench.flags})).rejects.toThrow(/Parsing --concurrency[\s\S]*expected a number or a comma-separated list of numbers, got "lots"/);
    await expect(Parser.parse(['--request-timeout', 'abc'], {flags: Bench.flags})).rejects.toThrow(/Parsing --request-timeout[\s\S]*expected a number, got "abc"/);
  });
});
