/**
 * Every check this build knows, by id: what the suites (sanity/*.yaml) may name. Each area's
 * checks live in their own module and are listed here once.
 */
import type {Check} from './check.js';
import {deploymentChecks} from './checks/deployment.js';
import {gpuChecks} from './checks/gpu.js';
import {systemChecks} from './checks/system.js';

export const ALL_CHECKS: readonly Check[] = [...systemChecks, ...gpuChecks, ...deploymentChecks];

/** Checks by id; a duplicate id is a bug caught by registry.test.ts. */
export const CHECKS_BY_ID: ReadonlyMap<string, Check> = new Map(ALL_CHECKS.map((c) => [c.id, c]));
