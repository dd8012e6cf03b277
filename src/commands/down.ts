import {Args, Command, Flags} from '@oclif/core';
import {err, json} from '../shared/output.js';
import {down} from '../supervisor/manage.js';
import {dynamoHome} from '../supervisor/run-dir.js';

export default class Down extends Command {
  static override summary = 'Stop a running deployment (phased: frontend first, then workers).';
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down demo'];
  static override args = {name: Args.string({description: 'deployment name (optional when only one runs)'})};
  static override flags = {
    timeout: Flags.integer({description: 'ms to wait for a graceful stop before SIGKILL', default: 15_000}),
    json: Flags.boolean({description: 'print the result as JSON'}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Down);
    const r = await down(dynamoHome(), args.name, flags.timeout);
    if (flags.json) return json(r);
    err(r.stale ? `${r.name} was not running (stale state cleaned up)` : `✔ ${r.name} stopped${r.forced ? ' (forced with SIGKILL)' : ''}`);
  }
}
