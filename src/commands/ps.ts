import {Command, Flags} from '@oclif/core';
import {err, json, out, table} from '../shared/output.js';
import {cleanStaleDeployments, listDeployments, psTableRows} from '../supervisor/manage.js';
import {dynamoHome} from '../supervisor/run-dir.js';

export default class Ps extends Command {
  static override summary = 'List running deployments and their processes.';
  static override examples = ['<%= config.bin %> ps', '<%= config.bin %> ps --json'];
  static override flags = {json: Flags.boolean({description: 'print as JSON'})};

  async run(): Promise<void> {
    const {flags} = await this.parse(Ps);
    const home = dynamoHome();
    for (const {name} of cleanStaleDeployments(home)) err(`cleaned up stale deployment ${name} (its supervisor is gone)`);
    const rows = listDeployments(home);
    if (flags.json) return json(rows);
    if (!rows.length) return err('no deployment is running (start one with `dynamo up`)');
    out(table(psTableRows(rows)));
  }
}
