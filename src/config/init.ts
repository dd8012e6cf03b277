/** `dynamo init`: render a template, check it against the schema, write it without clobbering. */
import {existsSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {parse} from 'yaml';
import {UserError} from '../shared/errors.js';
import {type TemplateValues, renderTemplate} from '../templates/index.js';
import {issueFix} from './layered.js';
import {configSchema} from './schema.js';

export function writeInitialConfig(opts: {template: string; output: string; force?: boolean; values: TemplateValues; cwd?: string}): string {
  const file = resolve(opts.cwd ?? process.cwd(), opts.output);
  if (existsSync(file) && !opts.force) throw new UserError(`${file} already exists`, 'pass --force to overwrite it, or --output to write elsewhere');
  const text = renderTemplate(opts.template, opts.values);
  const r = configSchema.safeParse(parse(text));
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new UserError(`the values given make an invalid config: ${i.path.join('.')}: ${i.message}`, issueFix(configSchema, i, () => 'check --name, --model and --engine'));
  }
  writeFileSync(file, text);
  return file;
}
