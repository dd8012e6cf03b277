/**
 * Which `dynamo bench` flag sets which profile key: one table, so a key has one flag and a flag
 * one key (checked against the command and the schema in profile-flags.test.ts). Flag names follow
 * AIPerf's where it has one. `--goodput` is the exception: one flag, several `slo.*` keys.
 */
import {goodputSlos} from './goodput.js';
import type {ProfileOverride} from './profile-load.js';

/** Flag name (without "--") → dotted profile key. */
export const PROFILE_FLAGS = {
  url: 'target.url',
  deployment: 'target.deployment',
  model: 'target.model',
  'api-key': 'target.apiKey',
  endpoint: 'target.endpoint',
  tokenizer: 'target.tokenizer',
  'count-tokens': 'target.countTokens',
  'request-timeout': 'target.timeoutS',
  'ignore-eos': 'target.ignoreEos',
  isl: 'workload.isl',
  'isl-stddev': 'workload.islStddev',
  osl: 'workload.osl',
  'osl-stddev': 'workload.oslStddev',
  'prefix-groups': 'workload.prefixGroups',
  'prefix-length': 'workload.prefixLength',
  'session-turns': 'workload.sessionTurns',
  'think-time': 'workload.thinkTimeMs',
  trace: 'workload.trace',
  'trace-block-size': 'workload.traceBlockSize',
  speedup: 'workload.speedup',
  prompts: 'workload.prompts',
  concurrency: 'load.concurrency',
  'request-rate': 'load.requestRate',
  arrival: 'load.arrival',
  'arrival-smoothness': 'load.arrivalSmoothness',
  'request-count': 'load.requestCount',
  duration: 'load.durationS',
  'grace-period': 'load.gracePeriodS',
  'warmup-request-count': 'load.warmupRequests',
  'slo-attainment': 'slo.attainment',
  seed: 'seed',
  'output-dir': 'outputDir',
} as const;

export type ProfileFlag = keyof typeof PROFILE_FLAGS;

/** The flag that sets `slo.*` limits by metric name (goodput.ts). */
export const GOODPUT_FLAG = 'goodput';

/** The values of the flags given (undefined = not given) as profile overrides, for loadProfile. */
export function profileOverrides(flags: Partial<Record<ProfileFlag, unknown>> & {[GOODPUT_FLAG]?: string}): ProfileOverride[] {
  const given = (Object.entries(PROFILE_FLAGS) as [ProfileFlag, string][]).filter(([flag]) => flags[flag] !== undefined);
  const slos = flags[GOODPUT_FLAG] === undefined ? {} : goodputSlos(flags[GOODPUT_FLAG]);
  return [
    ...given.map(([flag, key]) => ({path: key.split('.'), flag: `--${flag}`, value: flags[flag]})),
    ...Object.entries(slos).map(([key, ms]) => ({path: ['slo', key], flag: `--${GOODPUT_FLAG}`, value: ms})),
  ];
}
