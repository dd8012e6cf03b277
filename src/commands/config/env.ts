import {Command, Flags} from '@oclif/core';
import {json, out, table} from '../../shared/output.js';
import {envTwins} from '../../config/env-twins.js';

export default class ConfigEnv extends Command {
  static override summary = 'List every DYN_* environment variable and the config key it sets.';
  static override examples = ['<%= config.bin %> config env'];
  static override flags = {json: Flags.boolean({description: 'print as JSON'})};

  async run(): Promise<void> {
    const {flags} = await this.parse(ConfigEnv);
    const rows = [
      {env: 'DYN_CONFIG', key: '(config file path)', type: 'string', default: '', description: 'config file to load instead of searching the current directory'},
      {env: 'DYN_HOME', key: '(run directories)', type: 'string', default: '~/.dynamo', description: 'where deployments keep state and logs'},
      ...envTwins().map((t) => ({
        env: t.env,
        key: t.path.join('.'),
        type: t.choices ? t.choices.join('|') : t.type,
        default: t.default === undefined ? '' : JSON.stringify(t.default),
        description: t.description ?? '',
      })),
    ];
    if (flags.json) return json(rows);
    out(table(rows));
  }
}
