/**
 * The native module's loader: the addon when it is built (always, in the binary and after
 * `npm run setup`), else undefined and callers use their TypeScript versions of the same thing.
 * `DYNAMO_NO_NATIVE=1` forces the fallback (tests compare both); `DYNAMO_NATIVE_DEBUG=1` says on
 * stderr which addon was loaded, or why none was (e.g. to check that the binary embeds it).
 */
import addon from './index.cjs';
import type {NativeAddon} from './index.cjs';

export type {NativeAddon};

export const native: NativeAddon | undefined = process.env.DYNAMO_NO_NATIVE === '1' || addon.loadError ? undefined : (addon as NativeAddon);

/** Why the addon is not in use, if it is not. */
export const nativeUnavailable: string | undefined = native ? undefined : process.env.DYNAMO_NO_NATIVE === '1' ? 'DYNAMO_NO_NATIVE=1' : addon.loadError;

if (process.env.DYNAMO_NATIVE_DEBUG === '1') process.stderr.write(`${native ? `native: ${native.version}` : `native: not in use: ${nativeUnavailable}`}\n`);

/** The addon, or an error saying why it is not in use. */
export function requireNative(): NativeAddon {
  if (!native) throw new Error(`the native addon is not in use (${nativeUnavailable}): run \`npm run build:native\``);
  return native;
}

/** Dynamo's block hashes of every full block of `tokens` (seed 1337, or a LoRA seed), chained after `parent` if given. */
export function hashBlocks(
  tokens: Uint32Array,
  blockSize: number,
  seed: bigint,
  parent?: bigint,
  addon: NativeAddon = requireNative(),
): {local: BigUint64Array; sequence: BigUint64Array} {
  const all = parent === undefined ? addon.hashBlocks(tokens, blockSize, seed) : addon.hashBlocks(tokens, blockSize, seed, parent);
  const n = all.length / 2;
  return {local: all.subarray(0, n), sequence: all.subarray(n)};
}
