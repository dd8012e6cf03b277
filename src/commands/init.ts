import {Command, Flags} from '@oclif/core';
import {err} from '../shared/output.js';
import {configDefaults, configDescription} from '../config/defaults.js';
import {writeInitialConfig} from '../config/init.js';
import {CONFIG_TEMPLATES} from '../templates/index.js';

export default class Init extends Command {
  static override summary = 'Write a commented dynamo.config.yaml from a template.';
  static override examples = [
    '<%= config.bin %> init --model deepseek-r1',
    '<%= config.bin %> init --model llama-3.1-8b --disagg',
    '<%= config.bin %> init --template multi-host --model qwen3-32b',
  ];
  static override flags = {
    template: Flags.string({char: 't', description: 'template to start from', options: Object.keys(CONFIG_TEMPLATES)}),
    model: Flags.string({char: 'm', description: 'model alias or local model directory', default: 'deepseek-r1'}),
    engine: Flags.string({description: configDescription(['engine']), default: configDefaults().engine}),
    name: Flags.string({char: 'n', description: 'deployment name', default: 'default'}),
    disagg: Flags.boolean({description: 'disaggregated prefill/decode (same as --template disagg)'}),
    output: Flags.string({char: 'o', description: 'file to write', default: 'dynamo.config.yaml'}),
    force: Flags.boolean({description: 'overwrite an existing file'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Init);
    const template = flags.template ?? (flags.disagg ? 'disagg' : 'agg');
    const file = writeInitialConfig({template, output: flags.output, force: flags.force, values: {name: flags.name, model: flags.model, engine: flags.engine}});
    err(`✔ wrote ${file} (template ${template}); check it with \`dynamo config print\`, start with \`dynamo up\``);
  }
}
