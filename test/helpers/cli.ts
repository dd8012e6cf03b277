/** Drives the built binary the way a user does: real argv, env, signals, exit codes. */
import {execa} from 'execa';
import {BINARY} from './processes.js';

export function dynamo(args: string[], opts: {env?: Record<string, string>; cwd?: string; timeout?: number} = {}) {
  return execa(BINARY, args, {
    env: {NO_COLOR: '1', CI: '1', ...opts.env},
    cwd: opts.cwd,
    reject: false,
    timeout: opts.timeout ?? 30_000,
    stdin: 'ignore',
  });
}

/** Starts a long-running command and resolves once its stderr/stdout matches `marker`. */
export async function startUntil(args: string[], marker: RegExp, opts: {env?: Record<string, string>; cwd?: string; timeoutMs?: number} = {}) {
  const child = execa(BINARY, args, {env: {NO_COLOR: '1', CI: '1', ...opts.env}, cwd: opts.cwd, reject: false, stdin: 'ignore', all: true, buffer: true});
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${marker} within ${opts.timeoutMs ?? 20_000} ms; output:\n${seen}`)), opts.timeoutMs ?? 20_000);
    child.all?.on('data', (c: Buffer) => {
      seen += c.toString();
      if (marker.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    });
    void child.then(() => {
      clearTimeout(t);
      if (!marker.test(seen)) reject(new Error(`exited before ${marker}; output:\n${seen}`));
    });
  });
  return {child, output: () => seen};
}
