/**
 * What every deployment check reads from its context: the workers the plan puts on this host,
 * grouped by role, the model's figures, and the tensor parallel size each role runs at.
 *
 * Tunable (suite parameter of `deployment.fit`, `deployment.gpu-count`, `deployment.tp-nvlink`):
 * - `minKvTokens`: KV cache a worker must hold beside its weights to be useful, in tokens.
 *   Default: the model's context length, capped at 32,768 (one long request). vLLM itself refuses
 *   to start when the cache cannot hold one request of max_model_len (the full context unless
 *   lowered), so the fit check also warns when the cache is shorter than the context.
 *
 * TP of a role: `workers.<role>.tensorParallelSize` when set. Unset, the mocker picks its own
 * (engines/mocker/capacity.ts), and for a real engine the checks judge the smallest power of two
 * whose GPUs here hold the weights and `minKvTokens`, which is what they then tell the user to set.
 */
import {type ModelInfo, resolveModel} from '../../config/models.js';
import type {DynamoConfig, WorkerRole} from '../../config/schema.js';
import {minTensorParallel} from '../../engines/mocker/capacity.js';
import type {CheckOutcome, CheckStatus, SanityContext, SanityDeployment} from '../check.js';
import type {GpuTopology} from '../gpu/topology.js';
import {numberParam} from '../params.js';
import {NO_MODEL_FINDING} from '../runner.js';

export {GPU_ENGINES, needsGpus} from '../engines.js';

/** Cap of the default `minKvTokens`. */
export const DEFAULT_MIN_KV_TOKENS = 32_768;

export interface RoleGroup {
  role: WorkerRole;
  /** Process ids of this role's workers on this host, in plan order. */
  ids: string[];
  /** The role's configured TP; undefined = unset. */
  tensorParallelSize?: number;
}

/** What every deployment check gives without a deployment (the runner skips them before that). */
export const NO_DEPLOYMENT: CheckOutcome = {status: 'skip', finding: NO_MODEL_FINDING};

/** The plan's workers on `ctx.host`, by role, in plan order. */
export function roleGroupsHere(ctx: SanityContext, d: SanityDeployment): RoleGroup[] {
  const groups = new Map<WorkerRole, RoleGroup>();
  for (const p of d.plan.processes) {
    if (p.role !== 'worker' || !p.workerRole || p.host.name !== ctx.host) continue;
    const g = groups.get(p.workerRole) ?? {role: p.workerRole, ids: [], tensorParallelSize: d.config.workers[p.workerRole].tensorParallelSize};
    g.ids.push(p.id);
    groups.set(p.workerRole, g);
  }
  return [...groups.values()];
}

export function noWorkersHere(ctx: SanityContext): CheckOutcome {
  return {status: 'skip', finding: `no worker of this deployment runs on ${ctx.host === 'local' ? 'this host' : ctx.host}`};
}

/** The model's figures, or the outcome that says why they cannot be had. */
export function modelOf(config: DynamoConfig): {model: ModelInfo} | {outcome: CheckOutcome} {
  try {
    return {model: resolveModel(config.model)};
  } catch (e) {
    const hint = (e as {hint?: string}).hint;
    return {outcome: {status: 'fail', finding: `cannot size ${config.model}: ${(e as Error).message}`, ...(hint ? {fix: hint} : {})}};
  }
}

export function minKvTokens(params: Record<string, unknown>, model: ModelInfo): number {
  return numberParam(params, 'minKvTokens', Math.min(model.contextLength, DEFAULT_MIN_KV_TOKENS));
}

/** The smallest GPU's memory: a TP group is as large as its smallest member allows. */
export function gpuMemoryBytes(t: GpuTopology): number {
  return Math.min(...t.gpus.map((g) => g.memory.totalMiB)) * 1024 ** 2;
}

/** The TP a role runs at on GPUs of this size: its own, else the smallest that fits (undefined when none up to 64 does). */
export function roleTp(g: RoleGroup, model: ModelInfo, memoryBytes: number, kvTokens: number): number | undefined {
  return g.tensorParallelSize ?? minTensorParallel(model, memoryBytes, kvTokens);
}

const RANK: Record<CheckStatus, number> = {skip: 0, pass: 1, warn: 2, fail: 3};

/** The worst of several statuses (fail > warn > pass > skip). */
export function worst(statuses: readonly CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((w, s) => (RANK[s] > RANK[w] ? s : w), 'skip');
}

/** "1 agg worker", "2 decode workers". */
export function workersOf(g: RoleGroup): string {
  return `${g.ids.length} ${g.role} worker${g.ids.length === 1 ? '' : 's'}`;
}

/** The flag that sets a role's worker count. */
export function countFlag(role: WorkerRole): string {
  return role === 'agg' ? '--workers' : `--${role}-workers`;
}

/** "32k", "1.2M" tokens. */
export function tokens(n: number): string {
  if (n >= 1e6) return `${Math.round(n / 1e5) / 10}M`;
  if (n >= 1024) return `${Math.round(n / 1024)}k`;
  return String(n);
}
