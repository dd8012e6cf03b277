/**
 * The deployment area: can THIS host run THAT deployment, the one `dynamo up` would start with the
 * same config file, DYN_* variables and flags (ctx.deployment, built by sanity/deployment.ts), and
 * what to change when it cannot. Each check judges the plan's processes placed on `ctx.host`, is
 * pure over the shared facts, and is tested on recorded ones (deployment.test.ts).
 *
 * - GPUs (deployment-gpus.ts): fit, gpu-count, tp-nvlink.
 * - The rest of the host (deployment-host.ts): ports, engine, ucx, services.
 */
import type {Check} from '../check.js';
import {deploymentGpuChecks} from './deployment-gpus.js';
import {deploymentHostChecks} from './deployment-host.js';

export {DEFAULT_MIN_KV_TOKENS} from './deployment-context.js';
export {ENGINE_PACKAGES} from '../engines.js';
export {servicesCheck, tcpReachable} from './deployment-host.js';

/** In the order `dynamo sanity` prints them. */
export const deploymentChecks: Check[] = [...deploymentGpuChecks, ...deploymentHostChecks];
