import {Command, Flags} from '@oclif/core';
import {configFlagValues, configFlags} from '../flags/config-flags.js';
import {err, json, out, table} from '../../shared/output.js';
import {loadConfig} from '../../config/load.js';
import {printableConfig} from '../../config/printable.js';

export default class ConfigPrint extends Command {
  static override summary = 'Show the effective config and where each value came from.';
  static override examples = ['<%= config.bin %> config print', 'DYN_FRONTEND_PORT=9000 <%= config.bin %> config print --model qwen3-0.6b --json'];
  static override flags = {...configFlags, json: Flags.boolean({description: 'print the config as JSON'})};

  async run(): Promise<void> {
    const {flags} = await this.parse(ConfigPrint);
    const shown = printableConfig(loadConfig({configFile: flags.config, flags: configFlagValues(flags)}));
    if (flags.json) return json(shown.json);
    err(shown.file ? `config file: ${shown.file}` : 'no config file (defaults, env and flags only)');
    out(table(shown.rows));
  }
}
