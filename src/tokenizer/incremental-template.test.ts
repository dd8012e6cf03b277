import {Template} from '@huggingface/jinja';
import {describe, expect, it} from 'vitest';
import {IncrementalTemplate} from './incremental-template.js';

// A loop whose output depends on a namespace the template sets up before it (from the context) and
// changes in place on every message: the state a resume must match, and must not see changed.
const SOURCE = "{% set ns = namespace(p=prefix, n=0) %}{% for m in messages %}[{{ ns.p }}{{ ns.n }}:{{ m.content }}]{% set ns.n = ns.n + 1 %}{% set ns.p = ns.p + '.' %}{% endfor %}{{ ns.p }}";

const messages = (n: number) => Array.from({length: n}, (_, i) => ({role: 'user', content: `m${i}`}));

describe('IncrementalTemplate', () => {
  const t = new IncrementalTemplate(SOURCE);
  const full = (context: Record<string, unknown>) => new Template(SOURCE).render(context);

  it('resumes a loop from the state it started from, and gives the full render', () => {
    const first = t.render({messages: messages(2), prefix: 'a'});
    expect(first.text).toBe(full({messages: messages(2), prefix: 'a'}));
    const next = t.render({messages: messages(4), prefix: 'a'}, first.checkpoints);
    expect(next.resumed).toBe(1);
    expect(next.text).toBe(full({messages: messages(4), prefix: 'a'}));
  });

  it('renders in full when the state before the loop differs from the checkpoint', () => {
    const first = t.render({messages: messages(2), prefix: 'a'});
    const other = t.render({messages: messages(3), prefix: 'b'}, first.checkpoints);
    expect(other.resumed).toBe(0);
    expect(other.text).toBe(full({messages: messages(3), prefix: 'b'}));
  });

  it('keeps a checkpoint intact when renders resume from it (the loop changes its namespace in place)', () => {
    const first = t.render({messages: messages(1), prefix: 'x'});
    for (const n of [3, 2, 5]) {
      const r = t.render({messages: messages(n), prefix: 'x'}, first.checkpoints);
      expect(r.resumed).toBe(1);
      expect(r.text).toBe(full({messages: messages(n), prefix: 'x'}));
    }
    // A checkpoint of a resumed render resumes too.
    const second = t.render({messages: messages(3), prefix: 'x'}, first.checkpoints);
    const third = t.render({messages: messages(6), prefix: 'x'}, second.checkpoints);
    expect(third.resumed).toBe(1);
    expect(third.text).toBe(full({messages: messages(6), prefix: 'x'}));
  });
});
