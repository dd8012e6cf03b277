import {Args, Command, Flags} from '@oclif/core';
import {UserError} from '../shared/errors.js';

export default class Tether extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Run a program tied to its supervisor: it is stopped when the supervisor goes away.';
  static override examples = ['<%= config.bin %> tether -- nats-server -js'];
  static override args = {command: Args.string({description: 'program to run (after --)'})};
  static override flags = {'grace-ms': Flags.integer({description: 'SIGTERM → SIGKILL grace when orphaned', default: 5000})};

  async run(): Promise<void> {
    // The program's argv is taken verbatim after `--`: oclif's non-strict parsing reorders the
    // values of options it does not know (an engine's `--block-size 16` came out as `16`).
    const raw = [...this.argv];
    const sep = raw.indexOf('--');
    const {argv, flags} = await this.parse(Tether, sep >= 0 ? raw.slice(0, sep) : raw);
    const command = sep >= 0 ? raw.slice(sep + 1) : (argv as string[]);
    if (!command.length) throw new UserError('no program given', 'put it after --: dynamo tether -- PROGRAM ARGS…');
    const {runTethered} = await import('../supervisor/tether.js');
    process.exitCode = await runTethered(command, flags['grace-ms']);
  }
}
