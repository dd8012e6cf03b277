/**
 * A sanity check is a named question with a one-line answer: id, area, and `run(ctx)` → status,
 * finding, and the fix when it fails. Checks are pure over the facts in their context (probed once
 * per run and shared), so each is tested on recorded facts; the runner (runner.ts) runs them in
 * parallel, each within its timeout, and times them.
 */
import type {DeploymentPlan} from '../supervisor/plan.js';
import type {DynamoConfig} from '../config/schema.js';
import type {GpuProbe} from './gpu/topology.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export const AREAS = ['system', 'gpu', 'deployment', 'services'] as const;
export type CheckArea = (typeof AREAS)[number];

export interface CheckOutcome {
  status: CheckStatus;
  /** One line: what was found ("8 × H100 80GB HBM3, all-to-all NVLink (18 links)"). */
  finding: string;
  /** What to do about it, on warn and fail ("use --tp 8"). */
  fix?: string;
  /** Machine-readable details for --json. */
  data?: Record<string, unknown>;
}

export interface CheckResult extends CheckOutcome {
  id: string;
  area: CheckArea;
  title: string;
  host: string;
  durationMs: number;
}

/** The machine, as the system checks judge it (read by facts/system.ts; recorded in tests). */
export interface SystemFacts {
  os: {distro: string; release: string; kernel: string; arch: string; hostname: string};
  cpu: {model: string; cores: number; sockets: number; numaNodes: number};
  memory: {totalBytes: number; availableBytes: number};
  /** /dev/shm, where NCCL and NIXL put their buffers; undefined when not mounted. */
  shm?: {totalBytes: number; freeBytes: number};
  /** Soft limits of this process (what children inherit); null = unlimited. */
  limits: {openFiles: number | null; lockedMemoryBytes: number | null};
  /** Where model weights are cached (HF_HOME / HF_HUB_CACHE / ~/.cache/huggingface), and its free space. */
  modelCache: {path: string; freeBytes?: number};
  /** Whether the clock is synchronized (NTP), when it can be told. */
  timeSynced?: boolean;
}

/** A TCP port something listens on, and who holds it when /proc tells. */
export interface PortHolder {
  port: number;
  address: string;
  pid?: number;
  command?: string;
}

export interface CommandResult {
  /** False when the program is missing or timed out. */
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Facts probed lazily, at most once per run, and shared by every check that needs them. */
export interface SanityFacts {
  gpu(): Promise<GpuProbe>;
  system(): Promise<SystemFacts>;
  listeners(): Promise<PortHolder[]>;
  /** Runs a program (no shell) within a timeout; never throws. Tests give recorded answers. */
  run(command: string, args: string[], timeoutMs?: number): Promise<CommandResult>;
}

/** The deployment `dynamo up` would start with the same config and flags. */
export interface SanityDeployment {
  config: DynamoConfig;
  plan: DeploymentPlan;
}

export interface SanityContext {
  /** "local", or the name of the SSH host under `hosts`. */
  host: string;
  /** --thorough: slow checks too (bandwidth). */
  thorough: boolean;
  facts: SanityFacts;
  /** Absent when no model is configured: deployment checks then skip. */
  deployment?: SanityDeployment;
  /** The engine the config names (--engine, DYN_ENGINE, file; default mocker), model or not: what the GPU checks judge the driver for. */
  engine: string;
  /** This check's parameters from its suite (sanity/*.yaml). */
  params: Record<string, unknown>;
}

export interface Check {
  id: string;
  area: CheckArea;
  title: string;
  /** Runs only with --thorough. */
  thorough?: boolean;
  /** Default 1,500 ms: a whole local run must stay under two seconds. */
  timeoutMs?: number;
  run(ctx: SanityContext): Promise<CheckOutcome>;
}
