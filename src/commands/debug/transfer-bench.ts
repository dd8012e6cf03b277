import {Command, Flags} from '@oclif/core';
import {json, out} from '../../shared/output.js';

export default class DebugTransferBench extends Command {
  static override hidden = true;
  static override summary = 'Measure the KV transfer agent per backend against memcpy (what `npm run bench:transfer` runs; here so that a machine without node can run it).';
  static override examples = ['<%= config.bin %> debug transfer-bench', '<%= config.bin %> debug transfer-bench --backend shm --json'];
  static override flags = {
    backend: Flags.string({description: 'backends to measure', options: ['shm', 'tcp'], multiple: true}),
    'ms-per-row': Flags.integer({description: 'wall time per row, at least', default: 150, min: 10}),
    json: Flags.boolean({description: 'print the rows as JSON only'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(DebugTransferBench);
    const {runTransferBench, transferBenchTable, transferBenchTargets} = await import('../../native/transfer-bench.js');
    const rows = runTransferBench({backends: flags.backend as ('shm' | 'tcp')[] | undefined, msPerRow: flags['ms-per-row']});
    const record = {bench: 'transfer', rows, targets: transferBenchTargets(rows)};
    if (flags.json) return json(record);
    out(`${transferBenchTable(rows)}\n\nshm at ≥ 1 MiB: worst ${(100 * record.targets.shmAtLeast1MiB).toFixed(0)} % of memcpy (target ≥ 80 %): ${record.targets.met ? 'met' : 'NOT met'}\n\n${JSON.stringify(record)}`);
  }
}
