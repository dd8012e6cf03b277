import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {UserError} from '../shared/errors.js';
import {writeInitialConfig} from './init.js';
import {loadConfig} from './load.js';

const values = {name: 'demo', model: 'deepseek-r1', engine: 'mocker'};

describe('dynamo init', () => {
  it('writes every template as a config that loads', () => {
    for (const template of ['agg', 'disagg', 'multi-host']) {
      const dir = mkdtempSync(join(tmpdir(), 'dyn-init-'));
      const file = writeInitialConfig({template, output: 'dynamo.config.yaml', values, cwd: dir});
      expect(readFileSync(file, 'utf8')).toContain('model: deepseek-r1');
      expect(loadConfig({cwd: dir, env: {}}).config.name).toBe('demo');
    }
  });

  it('refuses an engine this build does not have, naming the ones it has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyn-init-'));
    let e: unknown;
    try {
      writeInitialConfig({template: 'agg', output: 'dynamo.config.yaml', values: {...values, engine: 'cpu'}, cwd: dir});
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe('the values given make an invalid config: engine: Invalid option: expected one of "mocker"|"llamacpp"|"vllm"|"sglang"|"trtllm"');
  });
});
