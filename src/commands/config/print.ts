import {Command, Flags} from '@oclif/core';
import {configFlagValues, configFlags} from '../flags/config-flags.js';
import {err, json, out, table} from '../../shared/output.js';
import {explainConfig, loadConfig} from '../../config/load.js';
import {MASK, maskSecret} from '../../shared/secrets.js';

export default class ConfigPrint extends Command {
  static override summary = 'Show the effective config and where each value came from.';
  static override examples = ['<%= config.bin %> config print', 'DYN_FRONTEND_PORT=9000 <%= config.bin %> config print --model qwen3-0.6b --json'];
  static override flags = {...configFlags, json: Flags.boolean({description: 'print the config as JSON'})};

  async run(): Promise<void> {
    const {flags} = await this.parse(ConfigPrint);
    const loaded = loadConfig({configFile: flags.config, flags: configFlagValues(flags)});
    const rows = explainConfig(loaded).map((r) => ({...r, value: maskSecret(r.key, r.value)}));
    if (flags.json) return json({file: loaded.file ?? null, config: {...loaded.config, frontend: {...loaded.config.frontend, apiKey: loaded.config.frontend.apiKey && MASK}}, sources: Object.fromEntries(rows.map((r) => [r.key, r.source]))});
    err(loaded.file ? `config file: ${loaded.file}` : 'no config file (defaults, env and flags only)');
    out(table(rows.map((r) => ({key: r.key, value: typeof r.value === 'string' ? r.value : JSON.stringify(r.value), source: r.source}))));
  }
}
