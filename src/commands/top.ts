import {Command, Flags} from '@oclif/core';
import {UserError} from '../shared/errors.js';
import {json, out} from '../shared/output.js';
import {dynamoHome} from '../supervisor/run-dir.js';
import {numberFlag} from './flags/numbers.js';

export default class Top extends Command {
  static override summary = 'Watch a deployment (or any vLLM, SGLang or Dynamo metrics endpoint) live: throughput, latency, KV cache, per-worker load.';
  static override description =
    'Polls the frontend and every worker of the running `dynamo up` deployment (or the --url endpoints) and shows request and token rates, TTFT/ITL percentiles over the window, prefix-cache hit rates, KV usage and per-worker state. Keys: q quit, ↑↓ select, s sort, p pause, r reset the window, ? help. --once and --json print one snapshot for scripts.';
  static override examples = [
    '<%= config.bin %> top',
    '<%= config.bin %> top --name demo --interval 0.5',
    '<%= config.bin %> top --url http://gpu1:8000/metrics --url http://gpu2:8000/metrics',
    '<%= config.bin %> top --once',
    '<%= config.bin %> top --json | jq .totals',
  ];
  static override flags = {
    name: Flags.string({char: 'n', description: 'deployment to watch (optional when only one runs)'}),
    url: Flags.string({description: 'a metrics endpoint to watch instead (repeatable): vLLM, SGLang, Dynamo, or a dynamo worker', multiple: true}),
    interval: numberFlag({description: 'seconds between refreshes', default: 1}),
    window: numberFlag({description: 'seconds of history behind rates and percentiles', default: 30}),
    once: Flags.boolean({description: 'print one text frame and exit'}),
    json: Flags.boolean({description: 'print one snapshot as JSON and exit (schema: --print-schema)'}),
    'print-schema': Flags.boolean({description: 'print the JSON Schema of the --json snapshot and exit'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Top);
    if (flags['print-schema']) return json((await import('../top/snapshot-schema.js')).topSnapshotJsonSchema());
    const opts = {home: dynamoHome(), name: flags.name, urls: flags.url, intervalS: flags.interval, windowS: flags.window, nameFlag: '--name'};
    const {topOnce} = await import('../top/watch.js');
    if (flags.json) return json(await topOnce(opts));
    if (flags.once) return out((await import('../tui/render-top-frame.js')).renderTopFrame(await topOnce(opts), {width: process.stdout.columns || Number(process.env.COLUMNS) || 120}));
    if (!process.stdout.isTTY || !process.stdin.isTTY) throw new UserError('dynamo top needs a terminal', 'for scripts and CI use --once (a text frame) or --json (a snapshot)');
    const {watchLive} = await import('../tui/watch-live.js');
    await watchLive({...opts, color: !process.env.NO_COLOR});
  }
}
