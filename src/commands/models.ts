import {Command, Flags} from '@oclif/core';
import {json, out, table} from '../shared/output.js';
import {catalogModels} from '../config/models.js';
import {modelTableRow} from '../config/model-table.js';

export default class Models extends Command {
  static override summary = 'List model aliases with the architecture figures used for sizing.';
  static override examples = ['<%= config.bin %> models', '<%= config.bin %> models --json'];
  static override flags = {json: Flags.boolean({description: 'print as JSON'})};

  async run(): Promise<void> {
    const {flags} = await this.parse(Models);
    const models = catalogModels();
    return flags.json ? json(models) : out(table(models.map(modelTableRow)));
  }
}
