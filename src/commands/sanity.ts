import {Command, Flags} from '@oclif/core';
import {configFlagValues, configFlags} from './flags/config-flags.js';
import {json, out} from '../shared/output.js';
import {AREAS, type CheckArea} from '../sanity/check.js';
import {renderReport, sanityExitCode, sanityReportJsonSchema} from '../sanity/report.js';

export default class Sanity extends Command {
  static override summary = 'Check that this machine (and the SSH hosts) can run the deployment, and say what to fix.';
  static override description =
    'Runs the checks of the suites (system, GPU, deployment) in parallel, each within its time budget, and prints a tree of ✅ ⚠️ ❌ with a fix under each problem. With a model (flag, DYN_MODEL or config file) it judges the deployment `dynamo up` would start with the same flags. Exit code 1 when any check fails.';
  static override examples = [
    {description: 'Is this box ready at all?', command: '<%= config.bin %> sanity'},
    {description: 'Can it run this deployment?', command: '<%= config.bin %> sanity --model llama-3.1-8b --disagg'},
    {description: 'For scripts and CI', command: '<%= config.bin %> sanity --json --local'},
    {description: 'Only the GPU checks, slow ones included', command: '<%= config.bin %> sanity --only gpu --thorough'},
  ];
  static override flags = {
    ...configFlags,
    json: Flags.boolean({description: 'print the report as one JSON document (schema: --print-schema)'}),
    'print-schema': Flags.boolean({description: 'print the JSON Schema of the --json report and exit'}),
    thorough: Flags.boolean({description: 'run slow checks too (bandwidth)'}),
    local: Flags.boolean({description: 'this host only: skip the SSH hosts'}),
    // What `dynamo sanity` tells an SSH host it runs on (with the config on stdin: --config -).
    'as-host': Flags.string({description: 'judge this machine as the named host of the config', hidden: true}),
    only: Flags.string({description: 'only these areas, comma-separated', options: [...AREAS], multiple: true, delimiter: ','}),
    verbose: Flags.boolean({description: 'show stack traces of internal errors'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Sanity);
    if (flags['print-schema']) return json(sanityReportJsonSchema());
    const {runSanity} = await import('../sanity/run.js');
    const report = await runSanity({
      configFile: flags.config,
      flags: configFlagValues(flags),
      thorough: flags.thorough,
      local: flags.local,
      asHost: flags['as-host'],
      only: flags.only as CheckArea[] | undefined,
    });
    if (flags.json) json(report);
    else out(renderReport(report));
    process.exitCode = sanityExitCode(report);
  }
}
