/**
 * The llama.cpp addon (src/native/llama), built by scripts/build-llama.mjs and embedded in the
 * binary; undefined on a build without it (another platform), and callers say so in one line.
 */
import {readFileSync} from 'node:fs';
import addon from '../../native/llama/index.cjs';
import type {LlamaAddon} from '../../native/llama/index.cjs';

export type {LlamaAddon, LlamaHandle, LlamaModelFacts} from '../../native/llama/index.cjs';

export const llamaAddon: LlamaAddon | undefined = addon.loadError ? undefined : (addon as LlamaAddon);

/** Why the addon is missing, if it is. */
export const llamaUnavailable: string | undefined = addon.loadError;

/** The addon, or an error that says why it is missing and what to do. */
export function requireLlama(): LlamaAddon {
  if (!llamaAddon) throw new Error(`the llama.cpp engine is not in this build (${addon.loadError}): run \`npm run build\` on linux x64`);
  return llamaAddon;
}

/** The instruction sets the addon is built for (scripts/build-llama.mjs). */
const NEEDED_CPU_FLAGS = ['avx2', 'fma', 'f16c'];

/** CPU features the addon needs that this CPU lacks (none where /proc/cpuinfo cannot tell). */
export function missingCpuFeatures(cpuinfo?: string): string[] {
  let text = cpuinfo;
  try {
    text ??= readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return [];
  }
  const flags = new Set(/^flags\s*:(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? []);
  return flags.size ? NEEDED_CPU_FLAGS.filter((f) => !flags.has(f)).map((f) => f.toUpperCase()) : [];
}
