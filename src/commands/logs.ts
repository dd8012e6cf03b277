import {Args, Command, Flags} from '@oclif/core';
import {out} from '../shared/output.js';
import {showLogs} from '../supervisor/manage.js';
import {dynamoHome} from '../supervisor/run-dir.js';

export default class Logs extends Command {
  static override summary = 'Show the logs of a deployment, or of one process or role.';
  static override examples = ['<%= config.bin %> logs', '<%= config.bin %> logs frontend -f', '<%= config.bin %> logs decode --name demo --lines 200'];
  static override args = {process: Args.string({description: 'process id (agg-0), role (frontend, agg, prefill, decode, worker)'})};
  static override flags = {
    name: Flags.string({char: 'n', description: 'deployment name (optional when only one runs)'}),
    follow: Flags.boolean({char: 'f', description: 'keep printing new lines until Ctrl-C'}),
    lines: Flags.integer({description: 'lines to show from the end of each log', default: 50}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs);
    await showLogs(dynamoHome(), {name: flags.name, which: args.process, lines: flags.lines, follow: flags.follow}, out);
  }
}
