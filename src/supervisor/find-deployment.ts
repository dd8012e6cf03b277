/**
 * Which deployment a command means: the one named, or the only one running. Shared by every
 * command that reaches a running `dynamo up` through its run directory (ps/down/logs, bench, top).
 */
import {UserError} from '../shared/errors.js';
import {closestMatch} from '../shared/suggest.js';
import {type RunEntry, listRuns} from './run-dir.js';

export interface FindOptions {
  /** Also return a deployment whose supervisor is gone (down and logs clean up or read what it left). */
  includeStale?: boolean;
  /** The flag that names a deployment in the calling command, for the hint. */
  nameFlag?: string;
}

export function findDeployment(home: string, name: string | undefined, opts: FindOptions = {}): RunEntry {
  const all = listRuns(home);
  const candidates = opts.includeStale ? all : all.filter((e) => e.alive);
  const how = opts.nameFlag ? `choose one with ${opts.nameFlag} NAME` : 'name the one you mean';
  if (name === undefined) {
    const alive = all.filter((e) => e.alive);
    if (alive.length === 1) return alive[0]!;
    if (alive.length > 1) throw new UserError(`${alive.length} deployments are running: ${alive.map((e) => e.state.name).join(', ')}`, how);
    if (candidates.length === 1) return candidates[0]!;
    throw new UserError('no deployment is running', 'start one with `dynamo up`');
  }
  const e = candidates.find((x) => x.state.name === name);
  if (!e) {
    const near = closestMatch(name, candidates.map((x) => x.state.name));
    throw new UserError(`no ${opts.includeStale ? '' : 'running '}deployment named "${name}"${near ? ` (did you mean "${near}"?)` : ''}`, 'see `dynamo ps`');
  }
  return e;
}
