import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {configSchema} from '../config/schema.js';
import {EMBEDDED_TEMPLATES} from './embedded.js';
import {CONFIG_TEMPLATES, renderTemplate} from './index.js';

const root = join(import.meta.dirname, '../../templates');

describe('config templates', () => {
  it('offers single-node aggregated, disaggregated and multi-host templates', () => {
    expect(Object.keys(CONFIG_TEMPLATES).sort()).toEqual(['agg', 'disagg', 'multi-host']);
  });

  for (const name of Object.keys(CONFIG_TEMPLATES)) {
    it(`${name} renders to a config the schema accepts`, () => {
      const text = renderTemplate(name, {name: 'demo', model: 'deepseek-r1', engine: 'mocker'});
      const r = configSchema.safeParse(parse(text));
      expect(r.error?.issues ?? []).toEqual([]);
      expect(r.data?.model).toBe('deepseek-r1');
    });
  }

  it('the binary embeds exactly the files in templates/ (run `npm run build` after editing)', () => {
    for (const f of readdirSync(join(root, 'config'))) {
      expect(EMBEDDED_TEMPLATES[`config/${f}`]).toBe(readFileSync(join(root, 'config', f), 'utf8'));
    }
  });
});
