/**
 * The facts one sanity run shares: each probe runs at most once, on first use, and every check
 * that asks later gets the same promise. So twenty checks reading the GPUs cost one NVML session,
 * and a check that needs no GPU never loads the driver.
 */
import type {CommandResult, PortHolder, SanityFacts, SystemFacts} from './check.js';
import type {GpuProbe} from './gpu/topology.js';
import {readListeners} from './facts/listeners.js';
import {runCommand} from './facts/run.js';
import {probeSystem} from './facts/system.js';
import {probeGpus} from './gpu/probe.js';
import {probeNvml} from '../native/gpu.js';

/** Where each fact comes from: the real machine (localFacts) or recorded answers in tests. */
export interface FactSources {
  gpu(): Promise<GpuProbe>;
  system(): Promise<SystemFacts>;
  listeners(): Promise<PortHolder[]>;
  run(command: string, args: string[], timeoutMs?: number): Promise<CommandResult>;
}

function once<T>(probe: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= Promise.resolve().then(probe));
}

/** Facts whose probes run at most once each; `run` is not memoized (each call is its own command). */
export function memoizeFacts(sources: FactSources): SanityFacts {
  return {
    gpu: once(() => sources.gpu()),
    system: once(() => sources.system()),
    listeners: once(() => sources.listeners()),
    run: (command, args, timeoutMs) => sources.run(command, args, timeoutMs),
  };
}

export interface LocalFactsOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** This machine's facts, probed lazily. */
export function localFacts(opts: LocalFactsOptions = {}): SanityFacts {
  return memoizeFacts({
    gpu: () => probeGpus({nvml: () => probeNvml(), run: runCommand, env: opts.env}),
    system: () => probeSystem({run: runCommand, env: opts.env, home: opts.home}),
    listeners: () => readListeners(),
    run: runCommand,
  });
}
