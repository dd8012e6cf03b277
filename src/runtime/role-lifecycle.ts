/**
 * Lifecycle of a long-running role (frontend, worker): stop on SIGTERM/SIGINT or when the
 * supervisor disappears, and exit once stopped. Handlers are installed before start-up work, so
 * a stop that arrives while the role is still loading ends it at once (nothing to drain yet)
 * instead of killing it mid-way by the signal's default action.
 */
import {watchParent} from './parent-watch.js';

export interface RoleLifecycle {
  /** Resolves when a stop was requested after `ready()`; the role then drains and calls `exit()`. */
  stopped: Promise<string>;
  ready(): void;
  exit(code?: number): never;
  /**
   * Runs the role. If it fails (a port in use, no GPU for GPU blocks…), the error goes on to be
   * reported and the process ends soon after, even if a handle the role opened (a server, a
   * poller) would keep it alive.
   */
  run(role: () => Promise<void>): Promise<void>;
}

export function roleLifecycle(onEarlyStop: (why: string) => void = () => {}): RoleLifecycle {
  let isReady = false;
  let requested: string | undefined;
  let resolveStop!: (why: string) => void;
  const stopped = new Promise<string>((r) => (resolveStop = r));
  const stop = (why: string) => {
    if (requested) return;
    requested = why;
    if (!isReady) {
      onEarlyStop(why);
      process.exit(0);
    }
    resolveStop(why);
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const unwatch = watchParent(stop);
  return {
    stopped,
    ready: () => {
      isReady = true;
    },
    exit: (code = 0) => {
      unwatch();
      // Drained and closed: end now rather than wait on whatever handle (stdin, timers) lingers.
      process.exit(code);
    },
    run: async (role) => {
      try {
        await role();
      } catch (e) {
        unwatch();
        // Time for the error to be printed first; unref'd, so a process with nothing left ends sooner.
        setTimeout(() => process.exit(process.exitCode || 1), 300).unref();
        throw e;
      }
    },
  };
}
