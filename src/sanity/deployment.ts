/**
 * The deployment `dynamo sanity` judges: the one `dynamo up` would start with the same config
 * file, DYN_* variables and flags, loaded and planned on the same path (supervisor/deployment.ts),
 * except that values this build cannot run yet (`--engine vllm`, etcd) load too: sanity says
 * itself what is missing for them, instead of refusing to look.
 */
import {type FlagValue, configSetsModel, loadConfig} from '../config/load.js';
import {planFromConfig} from '../supervisor/deployment.js';
import type {SanityDeployment} from './check.js';
import {NO_MODEL_FINDING} from './runner.js';

export interface SanityDeploymentRequest {
  home: string;
  /** --config / DYN_CONFIG; otherwise searched for in cwd. */
  configFile?: string;
  /** The config flags given to `dynamo sanity` (configFlagValues). */
  flags: FlagValue[];
  selfArgv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The config and plan to judge, or why there is none (no model given anywhere) with the engine the
 * config names all the same: the GPU checks judge the driver for it. A config error throws, as in `up`.
 */
export async function sanityDeployment(req: SanityDeploymentRequest): Promise<SanityDeployment | {skipped: string; engine: string}> {
  if (!configSetsModel({cwd: req.cwd, env: req.env, configFile: req.configFile, flags: req.flags})) return {skipped: NO_MODEL_FINDING, engine: configuredEngine(req)};
  // No engine planner: sanity judges the GPUs itself, and says what is missing rather than failing to plan.
  const {plan, loaded} = await planFromConfig({...req, allowUnavailable: true});
  return {config: loaded.config, plan};
}

/** The engine file, DYN_* and flags name, through the same loader (a stand-in model, which only the plan would read). */
function configuredEngine(req: SanityDeploymentRequest): string {
  const model: FlagValue = {flag: '--model', path: ['model'], value: '(none)'};
  return loadConfig({cwd: req.cwd, env: req.env, configFile: req.configFile, flags: [...req.flags, model], allowUnavailable: true}).config.engine;
}
