import {Command} from '@oclif/core';
import {json} from '../../shared/output.js';
import {configJsonSchema} from '../../config/schema.js';

export default class ConfigSchema extends Command {
  static override summary = 'Print the JSON Schema of dynamo.config.yaml (for editor completion and checks).';
  static override examples = ['<%= config.bin %> config schema > dynamo.schema.json'];

  async run(): Promise<void> {
    await this.parse(ConfigSchema);
    json(configJsonSchema());
  }
}
