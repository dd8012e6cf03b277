import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {UserError} from '../shared/errors.js';
import {envTwins} from './env-twins.js';
import {configSetsModel, explainConfig, loadConfig} from './load.js';

function dirWith(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dyn-cfg-'));
  writeFileSync(join(dir, name), text);
  return dir;
}

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('loadConfig', () => {
  it('merges defaults < file < env < flags and remembers where each value came from', () => {
    const dir = dirWith('dynamo.config.yaml', 'model: llama-3.1-8b\nfrontend:\n  port: 8001\nworkers:\n  agg:\n    count: 3\n');
    const loaded = loadConfig({
      cwd: dir,
      env: {DYN_FRONTEND_PORT: '8002', DYN_ROUTER_KV_EVENTS: 'false'},
      flags: [{flag: '--workers', path: ['workers', 'agg', 'count'], value: 4}],
    });
    expect(loaded.config.model).toBe('llama-3.1-8b');
    expect(loaded.config.frontend.port).toBe(8002);
    expect(loaded.config.workers.agg.count).toBe(4);
    expect(loaded.config.router.kvEvents).toBe(false);
    const sources = Object.fromEntries(explainConfig(loaded).map((r) => [r.key, r.source]));
    expect(sources.model).toBe(`file ${join(dir, 'dynamo.config.yaml')}`);
    expect(sources['frontend.port']).toBe('env DYN_FRONTEND_PORT');
    expect(sources['workers.agg.count']).toBe('flag --workers');
    expect(sources['router.mode']).toBe('default');
  });

  it('finds .dynamorc.json and JSON config files', () => {
    const dir = dirWith('.dynamorc.json', JSON.stringify({model: 'qwen3-0.6b', disagg: true}));
    expect(loadConfig({cwd: dir, env: {}}).config.disagg).toBe(true);
  });

  it('rejects an unknown key with the file, line, key and the likely intended key', () => {
    const dir = dirWith('dynamo.config.yaml', 'model: deepseek-r1\nrouter:\n  overlap_weight: 2\n');
    const e = errorOf(() => loadConfig({cwd: dir, env: {}}));
    expect(e.message).toContain(`${join(dir, 'dynamo.config.yaml')}:3: router.overlap_weight: unknown key`);
    expect(e.message).toContain('did you mean "overlapWeight"');
  });

  it('rejects a value of the wrong type naming the file, key and fix', () => {
    const dir = dirWith('dynamo.config.yaml', 'model: deepseek-r1\nworkers:\n  agg:\n    count: two\n');
    const e = errorOf(() => loadConfig({cwd: dir, env: {}}));
    expect(e.message).toMatch(/dynamo\.config\.yaml:4: workers\.agg\.count: .*expected number/);
    expect(e.message).toContain('set "workers.agg.count" to a number');
  });

  it('says how to give the model when none is set', () => {
    const dir = dirWith('dynamo.config.yaml', 'engine: mocker\n');
    const e = errorOf(() => loadConfig({cwd: dir, env: {}}));
    expect(e.message).toContain('model: model is required');
    expect(e.message).toContain('--model');
  });

  it('names the env variable when an env twin is malformed', () => {
    const e = errorOf(() => loadConfig({cwd: tmpdir(), env: {DYN_MODEL: 'x', DYN_FRONTEND_PORT: 'eighty'}}));
    expect(e.message).toContain('DYN_FRONTEND_PORT');
  });

  it('blames the flag when a flag value is out of range', () => {
    const e = errorOf(() => loadConfig({cwd: tmpdir(), env: {DYN_MODEL: 'x'}, flags: [{flag: '--port', path: ['frontend', 'port'], value: 70000}]}));
    expect(e.message).toContain('flag --port: frontend.port');
  });

  it('reports broken YAML with its line', () => {
    const dir = dirWith('dynamo.config.yaml', 'model: a\n  bad: [\n');
    expect(errorOf(() => loadConfig({cwd: dir, env: {}})).message).toMatch(/not valid YAML/);
  });

  it('refuses an engine this build does not have, wherever it was set, listing the ones it has', () => {
    const dir = dirWith('dynamo.config.yaml', 'model: deepseek-r1\nengine: cpu\n');
    const file = join(dir, 'dynamo.config.yaml');
    const e = errorOf(() => loadConfig({cwd: dir, env: {}}));
    expect(e.message).toContain(`${file}:2: engine: Invalid option: expected one of "mocker"|"llamacpp"|"vllm"|"sglang"|"trtllm"\n  → use one of: mocker, llamacpp, vllm, sglang, trtllm`);
    expect(errorOf(() => loadConfig({cwd: tmpdir(), env: {DYN_MODEL: 'x', DYN_ENGINE: 'cpu'}})).message).toContain('env DYN_ENGINE: engine: Invalid option');
    expect(errorOf(() => loadConfig({cwd: tmpdir(), env: {DYN_MODEL: 'x'}, flags: [{flag: '--engine', path: ['engine'], value: 'cpu'}]})).message).toContain('flag --engine: engine: Invalid option');
  });

  it('takes engine arguments for real engines only', () => {
    const args = 'workers:\n  agg:\n    engineArgs: [--gpu-memory-utilization, "0.9"]\n';
    const dir = dirWith('dynamo.config.yaml', `model: deepseek-r1\n${args}`);
    expect(errorOf(() => loadConfig({cwd: dir, env: {}})).message).toContain(`${join(dir, 'dynamo.config.yaml')}:4: workers.agg.engineArgs: the mocker takes no engine arguments\n  → remove it`);
    const vllm = dirWith('dynamo.config.yaml', `model: deepseek-r1\nengine: vllm\n${args}`);
    expect(loadConfig({cwd: vllm, env: {}}).config.workers.agg.engineArgs).toEqual(['--gpu-memory-utilization', '0.9']);
  });

  it('loads a config that leaves every not-yet key at its default, and etcd discovery with its defaults', () => {
    const {config} = loadConfig({cwd: tmpdir(), env: {DYN_MODEL: 'x', DYN_DISCOVERY_BACKEND: 'file'}});
    expect(config.engine).toBe('mocker');
    expect(config.discovery).toEqual({backend: 'file', etcdPort: 2379, etcdHost: '127.0.0.1', leaseTtlS: 10});
    expect(config.workers.agg.engineArgs).toEqual([]);
    const etcd = dirWith('dynamo.config.yaml', 'model: deepseek-r1\ndiscovery:\n  backend: etcd\n  etcdEndpoints: [http://10.0.0.10:2379]\n  leaseTtlS: 30\n');
    expect(loadConfig({cwd: etcd, env: {}}).config.discovery).toEqual({backend: 'etcd', etcdEndpoints: ['http://10.0.0.10:2379'], etcdPort: 2379, etcdHost: '127.0.0.1', leaseTtlS: 30});
  });

  it('loads what is not available yet only when asked to (dynamo sanity judges a box for it)', () => {
    const dir = dirWith('dynamo.config.yaml', 'model: deepseek-r1\nworkers:\n  agg:\n    engineArgs: [--enforce-eager]\n');
    const {config} = loadConfig({cwd: dir, env: {}, allowUnavailable: true});
    expect(config.workers.agg.engineArgs).toEqual(['--enforce-eager']);
    // Everything else is still checked.
    expect(errorOf(() => loadConfig({cwd: dir, env: {DYN_FRONTEND_PORT: '0'}, allowUnavailable: true})).message).toContain('env DYN_FRONTEND_PORT: frontend.port');
    expect(() => loadConfig({cwd: dir, env: {}})).toThrow(/the mocker takes no engine arguments/);
  });

  it('takes the tensor parallel size per role from the file, its env twin or the flag, and leaves it unset by default', () => {
    const dir = dirWith('dynamo.config.yaml', 'model: llama-3.1-70b\nworkers:\n  prefill:\n    tensorParallelSize: 2\n');
    const loaded = loadConfig({cwd: dir, env: {DYN_WORKERS_DECODE_TENSOR_PARALLEL_SIZE: '4'}});
    expect(loaded.config.workers.agg.tensorParallelSize).toBeUndefined();
    expect(loaded.config.workers.prefill.tensorParallelSize).toBe(2);
    expect(loaded.config.workers.decode.tensorParallelSize).toBe(4);
    const e = errorOf(() => loadConfig({cwd: dir, env: {}, flags: [{flag: '--tensor-parallel-size', path: ['workers', 'agg', 'tensorParallelSize'], value: 128}]}));
    expect(e.message).toContain('flag --tensor-parallel-size: workers.agg.tensorParallelSize');
  });

  it('tells whether a model is given at all, by file, env or flag', () => {
    expect(configSetsModel({cwd: tmpdir(), env: {}})).toBe(false);
    expect(configSetsModel({cwd: tmpdir(), env: {DYN_MODEL: 'x'}})).toBe(true);
    expect(configSetsModel({cwd: tmpdir(), env: {}, flags: [{flag: '--model', path: ['model'], value: 'x'}]})).toBe(true);
    expect(configSetsModel({cwd: dirWith('dynamo.config.yaml', 'model: x\n'), env: {}})).toBe(true);
    expect(configSetsModel({cwd: dirWith('dynamo.config.yaml', 'engine: mocker\n'), env: {}})).toBe(false);
  });

  it('says when an explicit config file does not exist', () => {
    expect(errorOf(() => loadConfig({cwd: tmpdir(), configFile: 'nope.yaml', env: {}})).message).toContain('config file not found');
  });
});

describe('env twins', () => {
  it('gives every scalar key a DYN_* twin', () => {
    const names = envTwins().map((t) => t.env);
    expect(names).toContain('DYN_MODEL');
    expect(names).toContain('DYN_ROUTER_OVERLAP_WEIGHT');
    expect(names).toContain('DYN_WORKERS_PREFILL_COUNT');
    expect(names).toContain('DYN_WORKERS_AGG_TENSOR_PARALLEL_SIZE');
    expect(names).toContain('DYN_SUPERVISOR_STOP_GRACE_MS');
    expect(new Set(names).size).toBe(names.length);
  });
});
