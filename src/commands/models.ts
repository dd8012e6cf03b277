import {Command, Flags} from '@oclif/core';
import {json, out, table} from '../shared/output.js';
import {catalogModels} from '../config/models.js';

const fmtParams = (n: number) => (n >= 1e9 ? `${+(n / 1e9).toFixed(1)}B` : `${+(n / 1e6).toFixed(0)}M`);

export default class Models extends Command {
  static override summary = 'List model aliases with the architecture figures used for sizing.';
  static override examples = ['<%= config.bin %> models', '<%= config.bin %> models --json'];
  static override flags = {json: Flags.boolean({description: 'print as JSON'})};

  async run(): Promise<void> {
    const {flags} = await this.parse(Models);
    const models = catalogModels();
    if (flags.json) return json(models);
    out(
      table(
        models.map((m) => ({
          alias: m.name,
          params: m.activeParameters !== m.parameters ? `${fmtParams(m.parameters)} (${fmtParams(m.activeParameters)} active)` : fmtParams(m.parameters),
          layers: m.layers,
          hidden: m.hiddenSize,
          heads: m.mla ? `${m.attentionHeads} MLA r${m.mla.kvLoraRank}` : `${m.attentionHeads}/${m.kvHeads} kv`,
          context: m.contextLength,
          'kv/token bf16': `${(m.kvBytesPerToken.bf16 / 1024).toFixed(1)} KiB`,
          hf: m.hfId,
        })),
      ),
    );
  }
}
