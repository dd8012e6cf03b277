import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {dynamo} from './helpers/cli.js';
import {fixture, requireBinary, tempDir} from './helpers/processes.js';

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe('the dynamo binary', () => {
  requireBinary();
  it('prints its version and help with examples', async () => {
    const v = await dynamo(['--version']);
    expect(v.exitCode).toBe(0);
    expect(v.stdout).toMatch(/^dynamo\/0\.1\.0 /);
    const help = await dynamo(['up', '--help']);
    expect(help.stdout).toContain('EXAMPLES');
    expect(help.stdout).toContain('dynamo up --model deepseek-r1');
    expect(help.stdout).toContain('--dry-run');
    // `help <command>` is the command's --help (one command loaded, like any other run).
    const topHelp = await dynamo(['help', 'top']);
    expect(topHelp.exitCode).toBe(0);
    expect(topHelp.stdout).toContain('$ dynamo top');
    expect((await dynamo(['help', 'config', 'print'])).stdout).toContain('$ dynamo config print');
  });

  it('answers an unknown command or flag in one line with the closest match', async () => {
    const cmd = await dynamo(['dwon']);
    expect(cmd.exitCode).toBe(2);
    expect(cmd.stderr.trim()).toBe('Error: unknown command "dwon". Did you mean "down"? See `dynamo --help`.');
    const flag = await dynamo(['up', '--modle', 'x']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr.trim()).toBe('Error: unknown flag --modle for "dynamo up". Did you mean --model? See `dynamo up --help`.');
    const value = await dynamo(['up', '--port', 'http']);
    expect(value.exitCode).toBe(2);
    expect(value.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a role flag outside its config key\'s range in one line, exit 2, in the words a config gets', async () => {
    const r = await dynamo(['frontend', '-m', 'qwen3-0.6b', '--router-prune-target-ratio', '5', '--busy-kv-usage', '7']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^Error: Parsing --(router-prune-target-ratio|busy-kv-usage): Too big: expected number to be <=1\. See `dynamo frontend --help`\.$/);
    const w = await dynamo(['worker', '-m', 'qwen3-0.6b', '--kv-memory-scale', '0']);
    expect(w.exitCode).toBe(2);
    expect(w.stderr.trim()).toBe('Error: Parsing --kv-memory-scale: Too small: expected number to be >0. See `dynamo worker --help`.');
  });

  it('offers only the engines that run', async () => {
    for (const cmd of ['worker', 'up']) {
      const help = await dynamo([cmd, '--help']);
      expect(help.stdout).toContain('mocker|llamacpp|vllm|sglang|trtllm');
      expect(help.stdout).not.toMatch(/\bcpu\b/);
    }
  });

  it('reports bad config files with file, line, key and fix — exit 1, no stack trace', async () => {
    const cases: [string, RegExp][] = [
      ['model: deepseek-r1\nworker:\n  agg: {count: 2}\n', /dynamo\.config\.yaml:2: worker: unknown key\n {2}→ "worker" → did you mean "workers"\?/],
      ['model: deepseek-r1\nfrontend:\n  port: eighty\n', /dynamo\.config\.yaml:3: frontend\.port: .*expected number.*\n {2}→ set "frontend\.port" to a number/],
      ['engine: mocker\n', /model: model is required\n {2}→ set `model:` in the config file, DYN_MODEL, or --model/],
    ];
    for (const [text, expected] of cases) {
      const dir = tempDir();
      writeFileSync(join(dir, 'dynamo.config.yaml'), text);
      const r = await dynamo(['up', '--dry-run'], {cwd: dir});
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(expected);
      noStack(r.stderr);
    }
  });

  it('shows the effective config and where each value came from', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'dynamo.config.yaml'), 'model: qwen3-0.6b\nrouter:\n  mode: random\n');
    const r = await dynamo(['config', 'print', '--json', '--port', '9001'], {cwd: dir, env: {DYN_WORKERS_AGG_COUNT: '3'}});
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.config.frontend.port).toBe(9001);
    expect(j.sources['frontend.port']).toBe('flag --port');
    expect(j.sources['workers.agg.count']).toBe('env DYN_WORKERS_AGG_COUNT');
    expect(j.sources['router.mode']).toBe(`file ${join(dir, 'dynamo.config.yaml')}`);
    expect(j.sources.engine).toBe('default');
  });

  it('prints a JSON Schema editors can use', async () => {
    const r = await dynamo(['config', 'schema']);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.router.properties.mode.enum).toEqual(['round-robin', 'random', 'kv']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('init writes a config that up accepts, and will not overwrite it', async () => {
    const dir = tempDir();
    const r = await dynamo(['init', '--model', 'llama-3.1-8b', '--disagg'], {cwd: dir});
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'dynamo.config.yaml'), 'utf8')).toContain('disagg: true');
    const plan = await dynamo(['up', '--dry-run', '--json'], {cwd: dir});
    expect(JSON.parse(plan.stdout).processes.map((p: {id: string}) => p.id)).toEqual(['prefill-0', 'decode-0', 'decode-1', 'frontend']);
    const again = await dynamo(['init'], {cwd: dir});
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(existsSync(join(dir, 'dynamo.config.yaml'))).toBe(true);
  });

  it('up --dry-run --json prints the plan for 8 workers and starts nothing', async () => {
    const home = tempDir();
    const r = await dynamo(['up', '--model', 'deepseek-r1', '--workers', '8', '--dry-run', '--json', '--api-key', 'k'], {env: {DYN_HOME: home}});
    expect(r.exitCode).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.processes).toHaveLength(9);
    expect(plan.processes[8].env.DYN_FRONTEND_API_KEY).toBe('***');
    expect(existsSync(join(home, 'runs'))).toBe(false);
  });

  it('up refuses a TLS certificate it cannot read before anything starts, in one line', async () => {
    const home = tempDir();
    const r = await dynamo(['up', '--model', 'qwen3-0.6b', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], {env: {DYN_HOME: home}});
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('frontend.tlsCert: cannot read /nonexistent/cert.pem (ENOENT)');
    expect(existsSync(join(home, 'runs'))).toBe(false);
  });

  it('up --engine vllm --dry-run shows each engine\'s launch; no GPUs, or an argument vLLM would refuse, fail in one clear line', async () => {
    const home = tempDir();
    const gpus = {DYN_HOME: home, PATH: `${fixture('bin')}:${process.env.PATH}`, FAKE_NVIDIA_SMI_BOX: 'h100-sxm-8', DYNAMO_NO_NVML: '1'};
    const r = await dynamo(['up', '--engine', 'vllm', '--model', 'llama-3.1-8b', '--disagg', '--dry-run', '--json'], {env: gpus});
    expect(r.exitCode).toBe(0);
    const plan = JSON.parse(r.stdout) as {processes: {id: string; engine?: {argv: string[]; env: Record<string, string>}}[]};
    const prefill = plan.processes.find((p) => p.id === 'prefill-0')!.engine!;
    expect(prefill.argv.slice(0, 3)).toEqual(['vllm', 'serve', 'meta-llama/Llama-3.1-8B-Instruct']);
    expect(prefill.argv).toContain('--kv-transfer-config');
    expect(prefill.env).toMatchObject({CUDA_VISIBLE_DEVICES: '0', PYTHONHASHSEED: '0', VLLM_NIXL_SIDE_CHANNEL_PORT: '5600'});
    const none = await dynamo(['up', '--engine', 'vllm', '--model', 'llama-3.1-8b', '--dry-run'], {env: {...gpus, FAKE_NVIDIA_SMI_BOX: ''}});
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('Error: engine vllm needs NVIDIA GPUs, and none were found on this machine');
    noStack(none.stderr);
    const dir = tempDir();
    writeFileSync(join(dir, 'dynamo.config.yaml'), 'model: llama-3.1-8b\nengine: vllm\nworkers:\n  agg:\n    engineArgs: [--max-model-length, "8192"]\n');
    const bad = await dynamo(['up', '--dry-run'], {env: gpus, cwd: dir});
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('workers.agg.engineArgs: vllm would refuse them: vllm serve: error: unrecognized arguments: --max-model-length 8192');
  });

  it('tether passes the program its arguments verbatim after --', async () => {
    const r = await dynamo(['tether', '--grace-ms', '100', '--', 'echo', 'serve', '--block-size', '16', '--x', '{"a":1}']);
    expect(r.stdout).toBe('serve --block-size 16 --x {"a":1}');
    expect((await dynamo(['tether'])).stderr).toContain('no program given');
  });

  it('rejects an unknown model alias with the closest one', async () => {
    const r = await dynamo(['up', '--model', 'llama-3.1-8', '--dry-run']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('unknown model "llama-3.1-8" (did you mean "llama-3.1-8b"?)');
  });
});
