/**
 * A real engine (vLLM, SGLang, TensorRT-LLM) as a child of its worker: started from its launch
 * line (src/engines/launch.ts), ready once its health path answers, restarted with backoff when it
 * dies, stopped with the worker. The worker registers in discovery on `onUp` and leaves it on
 * `onDown`, so the router never sees an engine that cannot serve.
 *
 * Rules:
 * - Loading a model takes minutes: readiness has its own long budget (`loadTimeoutMs`, default
 *   30 min), and a progress line every `progressEveryMs` says how long it has been and what the
 *   engine printed last.
 * - The engine's output goes to the worker's log, each line prefixed with the engine's name.
 * - The first start failing fails the worker (with the engine's last lines); a later crash is
 *   restarted by `decideRestart`'s rule (exponential backoff, a stable run resets the count), and
 *   when that gives up, `onGiveUp` ends the worker.
 * - Spawning, signalling, readiness and the restart rule are the supervisor's too (src/process/):
 *   the engine gets a process group of its own, so a stop reaches every process it started (TP ranks, compilers).
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {dirname} from 'node:path';
import type {EngineLaunch} from '../engines/launch.js';
import {ExternalError} from '../shared/errors.js';
import {type ChildHandle, type ExitInfo, spawnChild, stopChild} from '../process/child.js';
import {NotReady, waitReady} from '../process/readiness.js';
import {type RestartPolicy, decideRestart} from '../process/restart.js';

export interface EngineProcessOptions {
  /** Used in log lines and the process id: "vllm", "sglang", "trtllm". */
  name: string;
  launch: EngineLaunch;
  /** Where the engine's HTTP server is reached from the worker. */
  address: string;
  port: number;
  logFile: string;
  /** Each line the engine prints, already prefixed. */
  log(line: string): void;
  loadTimeoutMs?: number;
  progressEveryMs?: number;
  restart: RestartPolicy;
  /** The engine serves (after the first start and after each restart). */
  onUp(): void;
  /** The engine stopped serving (it exited); `restarting` says whether it comes back. */
  onDown(why: string, restarting: boolean): void;
  /** Restarts gave up: the worker should end. */
  onGiveUp(why: string): void;
  /**
   * Put before the engine's argv: `dynamo tether --`, so the engine is stopped even when the
   * worker is killed outright and cannot stop it (the tether reads EOF on its stdin).
   */
  wrap?: readonly string[];
}

const KEEP_LINES = 20;

export class EngineProcess {
  private child: ChildHandle | undefined;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private readonly lastLines: string[] = [];

  constructor(private readonly opts: EngineProcessOptions) {}

  /** Starts the engine and resolves once it serves; rejects (the engine stopped) when it cannot. */
  async start(): Promise<void> {
    for (const f of this.opts.launch.files) {
      mkdirSync(dirname(f.path), {recursive: true});
      writeFileSync(f.path, f.contents);
    }
    await this.spawnAndWait();
    this.opts.onUp();
  }

  async stop(graceMs: number): Promise<ExitInfo | undefined> {
    this.stopping = true;
    return this.child ? stopChild(this.child, graceMs) : undefined;
  }

  private async spawnAndWait(): Promise<void> {
    const {launch, name} = this.opts;
    this.startedAt = Date.now();
    const argv = [...(this.opts.wrap ?? []), launch.command, ...launch.args];
    const child = spawnChild({host: {name: 'local'}, argv, env: launch.env, logFile: this.opts.logFile}, {controlDir: '', onLine: (line) => this.line(line)});
    this.child = child;
    const timeoutMs = this.opts.loadTimeoutMs ?? 30 * 60_000;
    const progress = setInterval(() => {
      const s = Math.round((Date.now() - this.startedAt) / 1000);
      this.opts.log(`[${name}] loading: ${s} s so far (up to ${Math.round(timeoutMs / 1000)} s)${this.lastLines.length ? `; last: ${this.lastLines.at(-1)}` : ''}`);
    }, this.opts.progressEveryMs ?? 15_000);
    progress.unref();
    try {
      await waitReady(
        {address: this.opts.address, port: this.opts.port, httpPath: launch.healthPath, timeoutMs},
        {address: this.opts.address, exited: child.exited, lineSeen: () => new Promise(() => {}), pollMs: 250},
      );
    } catch (e) {
      await stopChild(child, 5_000);
      const exit = e instanceof NotReady ? e.exit : undefined;
      // 127: the tether (or a shell) found no such program.
      const why =
        exit?.code === 127
          ? `\`${launch.command}\` was not found on PATH: is ${name} installed? (\`dynamo sanity --engine ${name}\` checks)`
          : exit
            ? exitText(exit)
            : (e as Error).message;
      throw new ExternalError(`${name} did not become ready: ${why}${this.lastLines.length ? `\n${this.lastLines.slice(-8).map((l) => `  │ ${l}`).join('\n')}` : ''}`);
    } finally {
      clearInterval(progress);
    }
    void child.exited.then((exit) => this.exited(child, exit));
  }

  private line(line: string): void {
    this.lastLines.push(line);
    if (this.lastLines.length > KEEP_LINES) this.lastLines.shift();
    this.opts.log(`[${this.opts.name}] ${line}`);
  }

  private async exited(child: ChildHandle, exit: ExitInfo): Promise<void> {
    if (this.stopping || child !== this.child) return;
    let why = `${this.opts.name} ${exitText(exit)}`;
    this.opts.onDown(why, this.opts.restart.maxRestarts > 0);
    // Restart until it serves again, or the rule gives up (a start that fails counts as a crash).
    for (;;) {
      const decision = decideRestart(this.opts.restart, this.restarts, Date.now() - this.startedAt);
      if (!decision.restart) {
        this.opts.onGiveUp(`${why}; ${decision.reason}`);
        return;
      }
      this.restarts = decision.attempt;
      this.opts.log(`[${this.opts.name}] restarting in ${decision.delayMs} ms (attempt ${decision.attempt})`);
      await new Promise((r) => setTimeout(r, decision.delayMs));
      if (this.stopping) return;
      try {
        await this.spawnAndWait();
        this.opts.onUp();
        return;
      } catch (e) {
        if (this.stopping) return;
        why = (e as Error).message;
      }
    }
  }
}

function exitText(exit: ExitInfo): string {
  if (exit.error) return `could not start: ${exit.error}`;
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
