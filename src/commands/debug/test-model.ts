import {Command, Flags} from '@oclif/core';
import {resolve} from 'node:path';
import {UserError} from '../../shared/errors.js';
import {out} from '../../shared/output.js';

const VOCABS = ['llama3_1', 'qwen3', 'deepseek_v3'] as const;

export default class DebugTestModel extends Command {
  static override summary = 'Write a small GGUF model (~17 M parameters) from an embedded vocabulary and seeded weights, to try --engine llamacpp with no download. Its text is meaningless: real weights give real text.';
  static override examples = ['<%= config.bin %> debug test-model --out tiny.gguf', '<%= config.bin %> up --engine llamacpp --model ./tiny.gguf'];
  static override flags = {
    out: Flags.string({description: 'where to write the .gguf file', required: true}),
    vocab: Flags.string({description: 'whose vocabulary and chat template', options: [...VOCABS], default: 'llama3_1'}),
    seed: Flags.integer({description: 'seed of the weights', default: 1, min: 0}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(DebugTestModel);
    const {writeTestModel} = await import('../../engines/llamacpp/test-model.js');
    const path = resolve(flags.out);
    const written = await writeTestModel(path, {family: flags.vocab as (typeof VOCABS)[number], seed: flags.seed}).catch((e: NodeJS.ErrnoException) => {
      throw e.code ? new UserError(`cannot write ${path}: ${e.code}`, 'pass --out a path in an existing, writable directory') : e;
    });
    const {parameters, bytes} = written;
    out(`wrote ${path}: ${(parameters / 1e6).toFixed(1)} M parameters, ${(bytes / 1e6).toFixed(1)} MB (${flags.vocab} vocabulary, seeded weights: meaningless text)`);
  }
}
