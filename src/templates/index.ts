/**
 * Config templates for `dynamo init`, embedded in the binary from templates/config/.
 * Placeholders: {{name}}, {{model}}, {{engine}}.
 */
import {UserError} from '../shared/errors.js';
import {closestMatch} from '../shared/suggest.js';
import {EMBEDDED_TEMPLATES} from './embedded.js';

export const CONFIG_TEMPLATES: Record<string, string> = Object.fromEntries(
  Object.entries(EMBEDDED_TEMPLATES)
    .filter(([f]) => f.startsWith('config/') && f.endsWith('.yaml'))
    .map(([f, text]) => [f.slice('config/'.length, -'.yaml'.length), text]),
);

export interface TemplateValues {
  name: string;
  model: string;
  engine: string;
}

export function renderTemplate(template: string, values: TemplateValues): string {
  const text = CONFIG_TEMPLATES[template];
  if (text === undefined) {
    const near = closestMatch(template, Object.keys(CONFIG_TEMPLATES));
    throw new UserError(`unknown template "${template}"${near ? ` (did you mean "${near}"?)` : ''}`, `use one of: ${Object.keys(CONFIG_TEMPLATES).join(', ')}`);
  }
  return text.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (k in values ? String(values[k as keyof TemplateValues]) : m));
}
