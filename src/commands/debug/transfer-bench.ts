import {Command, Flags} from '@oclif/core';
import {json, out} from '../../shared/output.js';

export default class DebugTransferBench extends Command {
  static override hidden = true;
  static override summary = 'Measure the KV transfer agent per backend against memcpy (what `npm run bench:transfer` runs; here so that a machine without node can run it).';
  static override examples = ['<%= config.bin %> debug transfer-bench', '<%= config.bin %> debug transfer-bench --backend shm --json'];
  static override flags = {
    backend: Flags.string({description: 'backends to measure', options: ['shm', 'ucx', 'tcp', 'cuda'], multiple: true}),
    'ms-per-row': Flags.integer({description: 'wall time per row, at least', default: 150, min: 10}),
    json: Flags.boolean({description: 'print the rows as JSON only'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(DebugTransferBench);
    const {runTransferBench, transferBenchTable, transferBenchTargets} = await import('../../native/transfer-bench.js');
    const rows = runTransferBench({backends: flags.backend as ('shm' | 'ucx' | 'tcp' | 'cuda')[] | undefined, msPerRow: flags['ms-per-row']});
    const record = {bench: 'transfer', rows, targets: transferBenchTargets(rows)};
    if (flags.json) return json(record);
    const t = record.targets;
    const pct = (x: number | undefined) => (x === undefined ? 'not measured' : `worst ${(100 * x).toFixed(0)} %`);
    const verdict = `shm at ≥ 1 MiB vs memcpy: ${pct(t.shmAtLeast1MiB)}; ucx at ≥ 1 MiB vs shm: ${pct(t.ucxOfShmAtLeast1MiB)} (targets ≥ 80 %): ${t.met ? 'met' : 'NOT met'}`;
    // cuda rows compare with the driver's own copy of the same ranges on one stream, not memcpy.
    const {TransferAgent} = await import('../../native/transfer.js');
    const noGpu = rows.some((r) => r.backend === 'cuda') ? undefined : TransferAgent.cudaMissing();
    const gpu = noGpu ? `\ncuda: not measured (${noGpu})` : '';
    out(`${transferBenchTable(rows)}\n\n${verdict}${gpu}\n\n${JSON.stringify(record)}`);
  }
}
