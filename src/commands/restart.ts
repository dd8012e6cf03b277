import {Args, Command} from '@oclif/core';
import {err} from '../shared/output.js';
import {RESTART_ROLES, restartDeployment} from '../supervisor/manage.js';
import {dynamoHome} from '../supervisor/run-dir.js';

export default class Restart extends Command {
  static override summary = 'Rolling restart of a running deployment: workers one at a time, each drained first.';
  static override description =
    'Each worker in turn leaves discovery, finishes its requests within its drain time, restarts, and is ready and routed to again before the next one goes; requests it turns away meanwhile go to another worker. Streams still running when the drain time ends move to another worker when the frontend has a --migration-limit. With two or more workers per role, clients see no failed request.';
  static override examples = ['<%= config.bin %> restart', '<%= config.bin %> restart demo decode', '<%= config.bin %> restart frontend'];
  static override args = {
    name: Args.string({description: 'deployment name (optional when only one runs)'}),
    role: Args.string({description: `what to restart: ${RESTART_ROLES.join(', ')} (default: every worker)`}),
  };

  async run(): Promise<void> {
    const {args} = await this.parse(Restart);
    const name = await restartDeployment(dynamoHome(), args.name, args.role, (line) => err(`  ${line}`));
    err(`✔ ${name} restarted`);
  }
}
