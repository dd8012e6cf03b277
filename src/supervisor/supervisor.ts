/**
 * Carries out a DeploymentPlan: starts processes wave by wave (dependencies first), waits for each
 * to be ready, restarts a crashed process (the frontend too: the workers and their KV caches stay)
 * with backoff by its own policy, takes the stack down when one gives up (a crash loop, or a service
 * with no restarts), and stops in reverse order with SIGTERM → grace → SIGKILL.
 * It renders nothing: callers subscribe to lines and status changes.
 */
import {Cancelled, ExternalError, UserError} from '../shared/errors.js';
import {type ChildHandle, type ExitInfo, spawnChild, stopChild} from '../process/child.js';
import {type DeploymentPlan, type ProcessSpec, startWaves} from './plan.js';
import {NotReady, waitReady} from '../process/readiness.js';
import {decideRestart} from '../process/restart.js';

export type ProcessStatus = 'pending' | 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface ProcessState {
  id: string;
  host: string;
  status: ProcessStatus;
  pid?: number;
  remotePid?: number;
  restarts: number;
  startedAt?: number;
  exit?: ExitInfo;
}

/** Why the stack went down on its own. */
export type StackOutcome =
  | {kind: 'stopped'}
  | {kind: 'gave-up'; id: string; error: ExternalError};

export interface SupervisorOptions {
  controlDir: string;
  /** Added to the environment of the frontend and the workers, not the plan (the request-plane token). */
  roleEnv?: Record<string, string>;
  onLine?(id: string, line: string): void;
  onStatus?(state: ProcessState): void;
  /** Lines kept per process for error messages. */
  tailLines?: number;
}

interface Running {
  spec: ProcessSpec;
  state: ProcessState;
  handle?: ChildHandle;
  tail: string[];
  waiters: {re: RegExp; resolve(): void}[];
  restartTimer?: NodeJS.Timeout;
}

export class Supervisor {
  private readonly procs = new Map<string, Running>();
  private stopping = false;
  private rolling = false;
  private stopped?: Promise<void>;
  private downReason?: StackOutcome;
  private resolveOutcome!: (o: StackOutcome) => void;
  /** Resolves once the stack is down for good: stopped by us, or brought down by a failure. */
  readonly outcome = new Promise<StackOutcome>((r) => (this.resolveOutcome = r));

  constructor(
    readonly plan: DeploymentPlan,
    private readonly opts: SupervisorOptions,
  ) {
    for (const spec of plan.processes) {
      this.procs.set(spec.id, {spec, state: {id: spec.id, host: spec.host.name, status: 'pending', restarts: 0}, tail: [], waiters: []});
    }
  }

  states(): ProcessState[] {
    return [...this.procs.values()].map((p) => ({...p.state, remotePid: p.handle?.remotePid()}));
  }

  /** Starts every process in dependency order; on any failure stops what started and throws. */
  async startAll(): Promise<void> {
    for (const wave of startWaves(this.plan.processes)) {
      const results = await Promise.allSettled(wave.map((p) => this.startOne(p.id)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        await this.stopAll();
        throw failed.reason;
      }
    }
  }

  /** Starts one process and waits until it is ready (used by the startup task list). */
  async startOne(id: string): Promise<void> {
    const p = this.get(id);
    if (this.stopping) throw new Cancelled(`not starting ${id}: the deployment is stopping`);
    this.spawn(p);
    try {
      await waitReady(p.spec.readiness, {address: p.spec.readiness.address, exited: p.handle!.exited, lineSeen: (re) => this.lineSeen(p, re)});
    } catch (e) {
      if (!(e instanceof NotReady)) throw e;
      if (p.handle) await stopChild(p.handle, this.plan.stopGraceMs);
      const exit = e.exit ?? (await p.handle?.exited);
      // Stopped by the user while starting: not the process's failure.
      if (this.stopping) throw new Cancelled(`${id} stopped while starting`); // stopAll records its status
      this.setStatus(p, 'failed', exit);
      throw this.failure(p, `${id} ${e.message}`, exit);
    }
    this.setStatus(p, 'ready');
  }

  /** Phased stop: reverse dependency order, each wave SIGTERM → grace → SIGKILL. Idempotent. */
  stopAll(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const p of this.procs.values()) clearTimeout(p.restartTimer);
      for (const wave of startWaves(this.plan.processes).reverse()) {
        await Promise.all(
          wave.map(async (spec) => {
            const p = this.get(spec.id);
            if (!p.handle) return;
            this.setStatus(p, 'stopping');
            const exit = await stopChild(p.handle, this.plan.stopGraceMs);
            this.setStatus(p, 'stopped', exit);
          }),
        );
      }
      this.resolveOutcome(this.downReason ?? {kind: 'stopped'});
    })();
    return this.stopped;
  }

  /**
   * Rolling restart: each of `ids` in turn stops gracefully (a worker leaves discovery and drains its
   * requests, which the frontend moves elsewhere) and starts again, ready and `routable` before the
   * next one goes.
   * Not a crash: restart counts stay. A process that does not come back fails the roll, naming it;
   * the rest keep serving.
   */
  async restartInTurn(ids: readonly string[], say: (line: string) => void = () => {}, routable: (id: string) => Promise<void> = async () => {}): Promise<void> {
    if (this.rolling) throw new UserError('a rolling restart is already under way', 'wait for it to finish (`dynamo ps` shows each process)');
    this.rolling = true;
    try {
      for (const id of ids) {
        if (this.stopping) throw new Cancelled('the deployment is stopping');
        const p = this.get(id);
        clearTimeout(p.restartTimer);
        const t = Date.now();
        if (p.handle && p.state.status !== 'failed' && p.state.status !== 'stopped') {
          this.setStatus(p, 'stopping');
          const exit = await stopChild(p.handle, this.plan.stopGraceMs);
          this.setStatus(p, 'stopped', exit);
        }
        await this.startOne(id);
        // Ready is not enough: the next one may go only once the frontend routes to this one again.
        await routable(id);
        say(`${id} restarted and ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      }
    } finally {
      this.rolling = false;
    }
  }

  /** Second Ctrl-C: SIGKILL everything now, without waiting for graceful exits. */
  async killAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.procs.values()].map((p) => p.handle?.signal('SIGKILL')));
  }

  tail(id: string): string[] {
    return [...this.get(id).tail];
  }

  private get(id: string): Running {
    const p = this.procs.get(id);
    if (!p) throw new Error(`no process ${id} in plan`);
    return p;
  }

  private spawn(p: Running): void {
    const max = this.opts.tailLines ?? 20;
    this.setStatus(p, 'starting');
    const env = p.spec.role === 'external' ? p.spec.env : {...p.spec.env, ...this.opts.roleEnv};
    const handle = spawnChild({...p.spec, env}, {
      controlDir: this.opts.controlDir,
      onLine: (line) => {
        p.tail.push(line);
        if (p.tail.length > max) p.tail.shift();
        const matched = p.waiters.filter((w) => w.re.test(line));
        if (matched.length) p.waiters = p.waiters.filter((w) => !matched.includes(w));
        for (const w of matched) w.resolve();
        this.opts.onLine?.(p.spec.id, line);
      },
    });
    p.handle = handle;
    p.state.pid = handle.pid;
    p.state.startedAt = Date.now();
    p.state.exit = undefined;
    void handle.exited.then((exit) => this.onExit(p, handle, exit));
  }

  private lineSeen(p: Running, re: RegExp): Promise<void> {
    if (p.tail.some((l) => re.test(l))) return Promise.resolve();
    return new Promise((resolve) => p.waiters.push({re, resolve}));
  }

  private onExit(p: Running, handle: ChildHandle, exit: ExitInfo): void {
    // Exits during start are reported by startOne; exits while stopping are expected.
    if (this.stopping || p.handle !== handle || p.state.status !== 'ready') return;
    p.state.exit = exit;
    const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    const uptime = Date.now() - (p.state.startedAt ?? Date.now());
    const d = decideRestart(p.spec.restart, p.state.restarts, uptime);
    if (!d.restart) {
      this.setStatus(p, 'failed', exit);
      this.bringDown(p.spec.id, 'gave-up', this.failure(p, `${p.spec.id} ${d.reason}; giving up and stopping the deployment`, exit));
      return;
    }
    p.state.restarts = d.attempt;
    this.setStatus(p, 'restarting', exit);
    this.opts.onLine?.(p.spec.id, `[dynamo] ${p.spec.id} exited (${how}); restart ${d.attempt}/${p.spec.restart.maxRestarts} in ${d.delayMs} ms`);
    p.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.startOne(p.spec.id).catch((e: ExternalError) => {
        if (!this.stopping) this.bringDown(p.spec.id, 'gave-up', e);
      });
    }, d.delayMs);
  }

  private bringDown(id: string, kind: 'gave-up', error: ExternalError): void {
    if (this.stopping) return;
    this.downReason = {kind, id, error};
    void this.stopAll();
  }

  private failure(p: Running, message: string, exit?: ExitInfo): ExternalError {
    return new ExternalError(message, {
      process: p.spec.id,
      host: p.spec.host.name,
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      logTail: [...p.tail],
      logFile: p.spec.logFile,
    });
  }

  private setStatus(p: Running, status: ProcessStatus, exit?: ExitInfo): void {
    p.state.status = status;
    if (exit) p.state.exit = exit;
    this.opts.onStatus?.({...p.state, remotePid: p.handle?.remotePid()});
  }
}
