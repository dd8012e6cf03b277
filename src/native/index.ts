/**
 * The native module's loader: the addon when it is built (always, in the binary and after
 * `npm run setup`), else undefined and callers use their TypeScript versions of the same thing.
 * `DYNAMO_NO_NATIVE=1` forces the fallback (tests compare both).
 */
import addon from './index.cjs';
import type {NativeAddon} from './index.cjs';

export type {NativeAddon};

export const native: NativeAddon | undefined = process.env.DYNAMO_NO_NATIVE === '1' || addon.loadError ? undefined : (addon as NativeAddon);

/** Why the addon is not in use, if it is not. */
export const nativeUnavailable: string | undefined = native ? undefined : process.env.DYNAMO_NO_NATIVE === '1' ? 'DYNAMO_NO_NATIVE=1' : addon.loadError;
