import {Command, Flags} from '@oclif/core';
import {configFlagValues, configFlags} from './flags/config-flags.js';
import {json, out} from '../shared/output.js';
import {enginePlanner} from '../engines/plan.js';
import {hostGpuProbe} from '../sanity/gpu/ssh-probe.js';
import {type PlanRequest, describePlan, planFromConfig, readPlanFile} from '../supervisor/deployment.js';
import {redactPlan} from '../supervisor/plan.js';
import {dynamoHome, sshControlDirOf} from '../supervisor/run-dir.js';
import {isCompiledBinary, selfArgv} from '../shared/self.js';

export default class Up extends Command {
  static override summary = 'Start a deployment: OpenAI frontend, router and workers, supervised.';
  static override description =
    'Builds a plan of processes from the config (dynamo.config.yaml, DYN_* env, flags), starts them locally or over SSH, waits until each is ready, restarts crashed workers, and stops everything on Ctrl-C.';
  static override examples = [
    {description: 'Serve DeepSeek-R1 on the built-in mocker engine at http://127.0.0.1:8000', command: '<%= config.bin %> up --model deepseek-r1'},
    {description: 'Disaggregated: 2 prefill and 4 decode workers', command: '<%= config.bin %> up --model llama-3.1-8b --disagg --prefill-workers 2 --decode-workers 4'},
    {description: 'Show every process, command line and environment without starting anything', command: '<%= config.bin %> up --model qwen3-0.6b --dry-run'},
    {description: 'Run in the background, then manage it by name', command: '<%= config.bin %> up --model qwen3-0.6b --name demo --port 8001 --detach'},
  ];
  static override flags = {
    ...configFlags,
    'dry-run': Flags.boolean({description: 'print the plan and start nothing'}),
    json: Flags.boolean({description: 'with --dry-run: print the plan as JSON'}),
    detach: Flags.boolean({char: 'd', description: 'run in the background (see `dynamo ps`, `dynamo down`)'}),
    plan: Flags.string({description: 'run a plan saved with `--dry-run --json` instead of the config', exclusive: ['model', 'disagg', 'workers']}),
    verbose: Flags.boolean({description: 'show stack traces of internal errors'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Up);
    const home = dynamoHome();
    const self = selfArgv();
    const engines: PlanRequest['engines'] = (config, model) => enginePlanner(config, model, hostGpuProbe(config, sshControlDirOf(home)));
    const plan = flags.plan ? readPlanFile(flags.plan) : (await planFromConfig({home, selfArgv: self, configFile: flags.config, flags: configFlagValues(flags), engines, freePorts: !flags['dry-run'], shipFrom: isCompiledBinary() ? process.execPath : undefined})).plan;
    if (flags['dry-run']) return flags.json ? json(redactPlan(plan)) : out(describePlan(redactPlan(plan)));
    const {runDetached, runUp} = await import('../supervisor/up.js');
    if (flags.detach) return runDetached({plan, home, selfArgv: self, argv: this.argv.length ? ['up', ...this.argv] : ['up']});
    process.exitCode = await runUp({plan, home, configFile: flags.config, echo: process.env.DYN_DETACHED !== '1'});
  }
}
