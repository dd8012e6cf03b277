/**
 * Number flags that mirror a config key (`frontend`, `worker`, the config flags of `up`): parsed
 * like every number flag (numbers.ts), then checked by the key's own schema, so
 * `dynamo frontend --busy-kv-usage 7` is refused with the words a config file gets ("Too big:
 * expected number to be <=1"), at parse time: one line, exit 2. Bounds are never copied here.
 */
import {Flags} from '@oclif/core';
import {checkConfigValue, configDefault, configDescription} from '../../config/defaults.js';
import {parseNumber} from './numbers.js';

type Key = readonly string[];
/** What a command may add or override: its env twin, its own wording, aliases, help group. */
interface Extra {
  env?: string;
  description?: string;
  aliases?: string[];
  helpGroup?: string;
  /** `inf` is accepted (no key holds it: `--speedup-ratio inf` means "as fast as possible"). */
  allowInfinity?: boolean;
}

/** A number flag checked by config key `key`: `keyNumberFlag({key, description})`. */
export const keyNumberFlag = Flags.custom<number, {key: Key; allowInfinity?: boolean}>({
  parse: async (input, _ctx, opts) => {
    const n = parseNumber(input, opts);
    return Number.isFinite(n) ? checkConfigValue(opts.key, n) : n;
  },
});

/** The flag of a key with a default: the schema's description, default and range. */
export function configNumberFlag(key: Key, extra: Extra = {}) {
  const value = configDefault(key);
  if (typeof value !== 'number') throw new Error(`config key ${key.join('.')} has no number default (use optionalConfigNumberFlag)`);
  return keyNumberFlag({key, default: value, ...extra, description: extra.description ?? configDescription(key)});
}

/** The flag of a key that may stay unset (unset = the lower layers, or derived, e.g. numGpuBlocks). */
export function optionalConfigNumberFlag(key: Key, extra: Extra = {}) {
  return keyNumberFlag({key, ...extra, description: extra.description ?? configDescription(key)});
}
