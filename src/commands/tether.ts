import {Args, Command, Flags} from '@oclif/core';

export default class Tether extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Run a program tied to its supervisor: it is stopped when the supervisor goes away.';
  static override examples = ['<%= config.bin %> tether -- nats-server -js'];
  static override args = {command: Args.string({required: true, description: 'program to run (after --)'})};
  static override flags = {'grace-ms': Flags.integer({description: 'SIGTERM → SIGKILL grace when orphaned', default: 5000})};

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Tether);
    const {runTethered} = await import('../supervisor/tether.js');
    process.exitCode = await runTethered(argv as string[], flags['grace-ms']);
  }
}
