/**
 * The number flags every command uses: one parser, so "abc", "" and NaN are refused the same way
 * everywhere (oclif names the flag), and a list flag ("1,2,4") reads like a single value ("8").
 * Ranges that belong to the config live in its schema; `min` is for flags that have no schema key.
 */
import {Flags} from '@oclif/core';

/** A finite decimal number ("0.5", "1e3"), or `inf` when `allowInfinity`. */
export function parseNumber(input: string, opts: {min?: number; allowInfinity?: boolean} = {}): number {
  const s = input.trim();
  const n = opts.allowInfinity && /^\+?inf(inity)?$/i.test(s) ? Number.POSITIVE_INFINITY : Number(s);
  if (s === '' || Number.isNaN(n) || (!Number.isFinite(n) && !opts.allowInfinity)) throw new Error(`expected a number, got "${input}"`);
  if (opts.min !== undefined && n < opts.min) throw new Error(`expected a number ≥ ${opts.min}, got "${input}"`);
  return n;
}

/** "1,2,4" → [1, 2, 4]; "8" → [8]. */
export function parseNumberList(input: string, opts: {min?: number} = {}): number[] {
  const xs = input.split(',').map((part) => {
    try {
      return parseNumber(part, opts);
    } catch {
      throw new Error(`expected a number or a comma-separated list of numbers, got "${input}"`);
    }
  });
  return xs;
}

/** A one-element list reads as a single value (one run), a longer one as a sweep. */
export const oneOrList = (xs: number[] | undefined): number | number[] | undefined => (xs && xs.length === 1 ? xs[0] : xs);

/** A number flag: `numberFlag({description, min, default})`. */
export const numberFlag = Flags.custom<number, {min?: number; allowInfinity?: boolean}>({
  parse: async (input, _ctx, opts) => parseNumber(input, opts),
});

/** A number or a comma-separated list (a sweep): `numberListFlag({description, min})`. */
export const numberListFlag = Flags.custom<number[], {min?: number}>({
  parse: async (input, _ctx, opts) => parseNumberList(input, opts),
});
