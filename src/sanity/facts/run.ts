/**
 * The sanity checks' one way to run a program: execa, no shell, a timeout, and never a throw.
 * A missing program, a timeout or a kill by signal is `ok: false`; a program that ran and exited
 * (with any code) is `ok: true` and its code says how it went, because tools like `ntpstat` answer
 * with their exit code.
 */
import {execa} from 'execa';
import type {CommandResult} from '../check.js';

/** Most probes answer in milliseconds; a whole local run has two seconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;

export async function runCommand(command: string, args: string[], timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS, input?: string): Promise<CommandResult> {
  try {
    const r = await execa(command, args, {
      reject: false,
      shell: false,
      timeout: timeoutMs,
      ...(input === undefined ? {stdin: 'ignore' as const} : {input}),
      // Parsers read English output.
      env: {LC_ALL: 'C', LANG: 'C'},
      stripFinalNewline: false,
    });
    const ran = !r.failed || (r.exitCode !== undefined && !r.timedOut && !r.isTerminated);
    return {ok: ran, code: r.exitCode ?? null, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') || (ran ? '' : (r.shortMessage ?? ''))};
  } catch (e) {
    return {ok: false, code: null, stdout: '', stderr: (e as Error).message};
  }
}
