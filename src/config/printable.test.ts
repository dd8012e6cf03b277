import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {loadConfig} from './load.js';
import {maskConfig, printableConfig} from './printable.js';

describe('config print', () => {
  it('masks the API key in the rows and in the JSON, and says where each value came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyn-print-'));
    writeFileSync(join(dir, 'dynamo.config.yaml'), 'model: qwen3-0.6b\nfrontend: {apiKey: s3cret}\n');
    const shown = printableConfig(loadConfig({cwd: dir, env: {DYN_WORKERS_AGG_COUNT: '3'}, flags: [{flag: '--port', path: ['frontend', 'port'], value: 9001}]}));
    const file = join(dir, 'dynamo.config.yaml');
    expect(shown.file).toBe(file);
    expect(JSON.stringify(shown)).not.toContain('s3cret');
    expect(shown.rows).toContainEqual({key: 'frontend.apiKey', value: '***', source: `file ${file}`});
    expect(shown.rows).toContainEqual({key: 'workers.agg.hosts', value: '["local"]', source: 'default'});
    expect(shown.json).toMatchObject({file, config: {model: 'qwen3-0.6b', frontend: {apiKey: '***', port: 9001}}, sources: {'frontend.port': 'flag --port', 'workers.agg.count': 'env DYN_WORKERS_AGG_COUNT'}});
  });

  it('leaves an unset secret unset, and the config it was given untouched', () => {
    const config = {frontend: {port: 8000, apiKey: undefined as string | undefined}};
    expect(maskConfig(config)).toEqual({frontend: {port: 8000, apiKey: undefined}});
    const withKey = {frontend: {port: 8000, apiKey: 'k'}};
    expect(maskConfig(withKey).frontend.apiKey).toBe('***');
    expect(withKey.frontend.apiKey).toBe('k');
  });
});
