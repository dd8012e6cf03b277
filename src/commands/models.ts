import {Args, Command, Flags} from '@oclif/core';
import {modelTableRow} from '../config/model-table.js';
import {catalogModels, resolveModel} from '../config/models.js';
import {json, out, table} from '../shared/output.js';

export default class Models extends Command {
  static override summary = 'List model aliases with the architecture figures used for sizing, or show one model (alias, directory or .gguf file).';
  static override examples = ['<%= config.bin %> models', '<%= config.bin %> models --json', '<%= config.bin %> models ./model.gguf'];
  static override args = {model: Args.string({description: 'an alias, a Hugging Face model directory, or a .gguf file (its header is read, not its weights)'})};
  static override flags = {json: Flags.boolean({description: 'print as JSON'})};

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Models);
    const models = args.model ? [resolveModel(args.model)] : catalogModels();
    return flags.json ? json(args.model ? models[0] : models) : out(table(models.map(modelTableRow)));
  }
}
