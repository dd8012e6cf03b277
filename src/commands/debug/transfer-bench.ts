import {Command, Flags} from '@oclif/core';
import {json, out} from '../../shared/output.js';

const BACKENDS = ['shm', 'ucx', 'tcp', 'cuda'] as const;

export default class DebugTransferBench extends Command {
  static override hidden = true;
  static override summary = 'Measure the KV transfer agent per backend against memcpy (what `npm run bench:transfer` runs; here so that a machine without node can run it).';
  static override examples = ['<%= config.bin %> debug transfer-bench', '<%= config.bin %> debug transfer-bench --backend shm --json'];
  static override flags = {
    backend: Flags.string({description: 'backends to measure', options: [...BACKENDS], multiple: true}),
    'ms-per-row': Flags.integer({description: 'wall time per row, at least', default: 150, min: 10}),
    json: Flags.boolean({description: 'print the rows as JSON only'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(DebugTransferBench);
    const {runTransferBenchReport} = await import('../../bench/transfer-report.js');
    const report = runTransferBenchReport({backends: flags.backend as (typeof BACKENDS)[number][] | undefined, msPerRow: flags['ms-per-row']});
    return flags.json ? json(report.record) : out(report.text());
  }
}
