/**
 * From user input to a plan: load the config (file, env, flags), check the model, and plan the
 * processes; or read a plan saved from `up --dry-run --json`.
 */
import {accessSync, constants, readFileSync} from 'node:fs';
import {z} from 'zod';
import {UserError} from '../shared/errors.js';
import {type FlagValue, type LoadedConfig, loadConfig} from '../config/load.js';
import {resolveModel} from '../config/models.js';
import {sshHostSchema} from '../config/schema.js';
import {runsInWorker} from '../config/engines.js';
import type {DynamoConfig} from '../config/schema.js';
import type {ModelInfo} from '../config/models.js';
import {type DeploymentPlan, type EnginePlanner, planDeployment} from './plan.js';
import {withFreeDefaultPorts} from './default-ports.js';
import {binaryIdOf} from './ship.js';
import {hostPortCheck} from './host-ports.js';
import {runDirOf, sshControlDirOf} from './run-dir.js';
import {shellQuote} from '../process/ssh.js';

export interface PlanRequest {
  home: string;
  selfArgv: string[];
  configFile?: string;
  flags: FlagValue[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Plan what this build cannot run yet (real engines, etcd): `dynamo sanity` only (see LoadOptions). */
  allowUnavailable?: boolean;
  /** This build's binary, when it can be copied to SSH hosts (the compiled binary; not under node). */
  shipFrom?: string;
  /** Move ports left at their defaults past ports in use here (`dynamo up`; not `--dry-run`, whose plan should not depend on the moment). */
  freePorts?: boolean;
  /** Real engines: makes the planner of each worker's engine (it reads the GPUs of every host workers are placed on); called only for them. */
  engines?: (config: DynamoConfig, model: ModelInfo) => Promise<EnginePlanner>;
}

export async function planFromConfig(req: PlanRequest): Promise<{plan: DeploymentPlan; loaded: LoadedConfig}> {
  const loaded = loadConfig({cwd: req.cwd, env: req.env, configFile: req.configFile, flags: req.flags, allowUnavailable: req.allowUnavailable});
  // A second deployment on this machine finds its own ports (only where the config left the defaults).
  const config = req.freePorts ? await withFreeDefaultPorts(loaded, hostPortCheck(loaded.config.hosts, sshControlDirOf(req.home))) : loaded.config;
  // Remote-only models are resolved on their hosts; a local alias or directory is checked here.
  const model = resolveModel(config.model, req.cwd);
  if (config.engine === 'llamacpp' && model.format !== 'gguf') throw new UserError(`--engine llamacpp runs a .gguf model file, not "${config.model}"`, 'pass --model ./model.gguf (any GGUF with a Llama 3, Qwen 2/3 or DeepSeek V3 vocabulary)');
  checkTlsFiles(config);
  const runDir = runDirOf(req.home, config.name);
  const engines = !runsInWorker(config.engine) && req.engines ? await req.engines(config, model) : undefined;
  // SSH hosts with no dynamoPath run this build, shipped by `up`: the plan names it by its hash.
  const ships = Object.keys(config.hosts).length > 0 && Object.values(config.hosts).some((h) => !h.dynamoPath);
  const binaryId = req.shipFrom && ships ? await binaryIdOf(req.shipFrom) : undefined;
  const plan = planDeployment(config, {runDir, selfArgv: req.selfArgv, engines, binaryId, env: req.env ?? process.env});
  return {plan, loaded: {...loaded, config}};
}

/** The frontend's certificate and key are read here, so a wrong path stops `up` before any process starts. */
function checkTlsFiles(config: DynamoConfig): void {
  for (const [key, file] of [['frontend.tlsCert', config.frontend.tlsCert], ['frontend.tlsKey', config.frontend.tlsKey]] as const) {
    if (!file) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (e) {
      throw new UserError(`${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, 'give PEM files with --tls-cert and --tls-key');
    }
  }
}

const processSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  role: z.enum(['frontend', 'worker', 'external']),
  workerRole: z.enum(['agg', 'prefill', 'decode']).optional(),
  host: z.union([z.object({name: z.literal('local')}), z.object({name: z.string(), ssh: sshHostSchema})]),
  argv: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()).default({}),
  ports: z.record(z.string(), z.number().int()).default({}),
  readiness: z.object({
    address: z.string().default('127.0.0.1'),
    port: z.number().int().optional(),
    httpPath: z.string().optional(),
    logLine: z.string().optional(),
    timeoutMs: z.number().int().positive().default(60_000),
  }),
  dependsOn: z.array(z.string()).default([]),
  restart: z.object({
    maxRestarts: z.number().int().min(0).default(0),
    backoffMs: z.number().int().min(0).default(500),
    backoffMaxMs: z.number().int().min(0).default(30_000),
    stableMs: z.number().int().min(0).default(30_000),
  }),
  logFile: z.string(),
  engine: z.object({argv: z.array(z.string()).min(1), env: z.record(z.string(), z.string())}).optional(),
});

const planSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/),
  runDir: z.string(),
  model: z.string(),
  url: z.string(),
  stopGraceMs: z.number().int().min(0).default(5000),
  processes: z.array(processSchema).min(1),
});

/** A plan saved by `dynamo up --dry-run --json` (possibly edited) — run as-is. */
export function readPlanFile(file: string): DeploymentPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read plan ${file}: ${(e as Error).message}`, 'write one with `dynamo up --dry-run --json > plan.json`');
  }
  const r = planSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new UserError(`${file}: ${first.path.join('.')}: ${first.message}`, 'compare with the output of `dynamo up --dry-run --json`');
  }
  const ids = new Set(r.data.processes.map((p) => p.id));
  for (const p of r.data.processes) {
    const missing = p.dependsOn.find((d) => !ids.has(d));
    if (missing) throw new UserError(`${file}: process ${p.id} depends on unknown process "${missing}"`);
  }
  return r.data as DeploymentPlan;
}

/** Human-readable plan for `up --dry-run`. */
export function describePlan(plan: DeploymentPlan): string {
  const lines = [`deployment ${plan.name}: ${plan.processes.length} processes, serving ${plan.model} at ${plan.url}`, `run directory: ${plan.runDir}`, ''];
  for (const p of plan.processes) {
    const ports = Object.entries(p.ports).map(([k, v]) => `${k}=${v}`).join(' ');
    const r = p.readiness;
    const ready = [r.port && `port ${r.port}`, r.httpPath && `GET ${r.httpPath}`, r.logLine && `line /${r.logLine}/`].filter(Boolean).join(' → ');
    const restart = p.restart.maxRestarts ? `restart ≤${p.restart.maxRestarts}× with backoff from ${p.restart.backoffMs} ms` : 'no restart (its exit stops the deployment)';
    lines.push(`${p.id}@${p.host.name}${'ssh' in p.host ? ` (ssh ${p.host.ssh.user ? `${p.host.ssh.user}@` : ''}${p.host.ssh.address}:${p.host.ssh.port})` : ''}`);
    lines.push(`  ports:   ${ports ? `${ports} at ${p.readiness.address}` : '-'}`);
    lines.push(`  ready:   ${ready || 'on start'} within ${r.timeoutMs} ms`);
    lines.push(`  after:   ${p.dependsOn.join(', ') || '-'}`);
    lines.push(`  restart: ${restart}`);
    lines.push(`  log:     ${p.logFile}`);
    lines.push(`  env:     ${Object.entries(p.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')}`);
    lines.push(`  $ ${p.argv.map(shellQuote).join(' ')}`);
    if (p.engine) lines.push(`  engine:  $ ${[...Object.entries(p.engine.env).map(([k, v]) => `${k}=${shellQuote(v)}`), ...p.engine.argv.map(shellQuote)].join(' ')}`);
    lines.push('');
  }
  return lines.join('\n');
}
