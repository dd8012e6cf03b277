/**
 * Runs selected checks for one host, all at once, and returns their results in the order given.
 * Rules, in order:
 * - A thorough-only check skips unless `thorough` ("slow check: run with --thorough").
 * - A deployment check skips when no deployment is given ("no model given: …").
 * - Each check has its own budget (`timeoutMs`, default 1,500 ms, so a local run stays under two
 *   seconds). Past it the result is a *warning*, "timed out after N ms": a slow probe means we
 *   could not tell, not that the machine is wrong, so it must not fail the run (exit 1) on its
 *   own; the check's promise is abandoned, and the facts it was waiting on stay shared.
 * - A throw (or rejection) is a *failure*, "check crashed: <message>": a bug in one check must
 *   neither crash the command nor pass silently.
 * - Each result carries its duration, from `now` (injected; performance.now by default).
 */
import type {Check, CheckOutcome, CheckResult, SanityContext, SanityDeployment, SanityFacts} from './check.js';

export const DEFAULT_CHECK_TIMEOUT_MS = 1500;

/** A check as a suite selects it: with that suite's parameters. */
export interface SelectedCheck {
  check: Check;
  params: Record<string, unknown>;
}

export interface RunChecksOptions {
  host: string;
  thorough: boolean;
  facts: SanityFacts;
  deployment?: SanityDeployment;
  /** The configured engine (SanityContext.engine); default the deployment's, else mocker. */
  engine?: string;
  /** For checks that set none. */
  defaultTimeoutMs?: number;
  now?: () => number;
}

export const NO_MODEL_FINDING = 'no model given: pass --model to check a deployment';

const TIMED_OUT = Symbol('timed out');

function withinBudget(p: Promise<CheckOutcome>, ms: number): Promise<CheckOutcome | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const STATUSES = new Set(['pass', 'warn', 'fail', 'skip']);

function validOutcome(r: CheckOutcome): CheckOutcome {
  if (!r || !STATUSES.has(r.status) || typeof r.finding !== 'string') throw new Error(`returned ${JSON.stringify(r)}, not an outcome`);
  return r;
}

function skipReason(check: Check, opts: RunChecksOptions): string | undefined {
  if (check.thorough && !opts.thorough) return 'slow check: run with --thorough';
  if (check.area === 'deployment' && !opts.deployment) return NO_MODEL_FINDING;
  return undefined;
}

async function runOne({check, params}: SelectedCheck, opts: RunChecksOptions): Promise<CheckResult> {
  const now = opts.now ?? (() => performance.now());
  const head = {id: check.id, area: check.area, title: check.title, host: opts.host};
  const skip = skipReason(check, opts);
  if (skip) return {...head, status: 'skip', finding: skip, durationMs: 0};
  const engine = opts.engine ?? opts.deployment?.config.engine ?? 'mocker';
  const ctx: SanityContext = {host: opts.host, thorough: opts.thorough, facts: opts.facts, deployment: opts.deployment, engine, params};
  const budget = check.timeoutMs ?? opts.defaultTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const start = now();
  let outcome: CheckOutcome;
  try {
    // Called inside the try: a check that throws synchronously is caught too.
    const r = await withinBudget(Promise.resolve().then(() => check.run(ctx)), budget);
    outcome =
      r === TIMED_OUT
        ? {status: 'warn', finding: `timed out after ${budget} ms`, fix: `something "${check.title}" reads is slow or hung; run again, and look at it if this repeats`}
        : validOutcome(r);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    outcome = {status: 'fail', finding: `check crashed: ${message}`, fix: 'a bug in dynamo: report it with the output of `dynamo sanity --json`'};
  }
  const durationMs = Math.round((now() - start) * 10) / 10;
  return {...head, ...outcome, durationMs};
}

/** Every selected check, concurrently; results in selection order. */
export function runChecks(selected: readonly SelectedCheck[], opts: RunChecksOptions): Promise<CheckResult[]> {
  return Promise.all(selected.map((s) => runOne(s, opts)));
}
