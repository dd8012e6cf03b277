/**
 * `dynamo tether -- CMD ARGS…` runs a program that knows nothing of dynamo (an external engine, a
 * service, a test fixture) so that it still obeys the supervisor's rules: signals reach it, its exit
 * code is ours, and it is stopped (SIGTERM, grace, SIGKILL) when the supervisor disappears.
 */
import {spawn} from 'node:child_process';
import {constants} from 'node:os';
import {watchParent} from '../runtime/parent-watch.js';

export function runTethered(argv: string[], graceMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {stdio: ['ignore', 'inherit', 'inherit']});
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
    const handlers = signals.map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const unwatch = watchParent((why) => {
      process.stderr.write(`[dynamo tether] ${why}; stopping ${argv[0]}\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
    });
    child.on('error', (e) => {
      process.stderr.write(`[dynamo tether] could not start ${argv[0]}: ${e.message}\n`);
      unwatch();
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      unwatch();
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
