/**
 * The compiled chat template renders what @huggingface/jinja's interpreter renders: construct by
 * construct against the interpreter, and for every bundled family's template over conversations.
 * What it leaves to the interpreter (TemplateBail) is what the compiler's header says.
 */
import {Template} from '@huggingface/jinja';
import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {loadTokenizerFiles} from './bundled.js';
import {TemplateBail, compileTemplate} from './template-compiler.js';

type Context = Record<string, unknown>;

function compiled(source: string) {
  const f = compileTemplate((new Template(source) as unknown as {parsed: never}).parsed);
  if (!f) throw new Error(`did not compile: ${source}`);
  return f;
}

/** The interpreter's text, or its error. */
function interpreted(source: string, context: Context): {text?: string; error?: string} {
  try {
    return {text: new Template(source).render(context)};
  } catch (e) {
    return {error: (e as Error).message};
  }
}

/** Same text as the interpreter, or a bail; never a different text. */
function agrees(source: string, context: Context): 'same' | 'bail' {
  const want = interpreted(source, context);
  try {
    const got = compiled(source)(context);
    expect(want.error, `interpreter failed where the compiled form did not: ${source}`).toBeUndefined();
    expect(got, source).toBe(want.text);
    return 'same';
  } catch (e) {
    if (e instanceof TemplateBail) return 'bail';
    throw e;
  }
}

const VALUES: Context = {s: 'abc', e: '', n: 3, z: 0, neg: -2, t: true, f: false, nul: null, l: [1, 'a', 'b'], el: [], m: {a: 1, b: 'x'}, em: {}, fl: 1.5, und: undefined};

describe('compiled chat templates', () => {
  it('truthiness, operators, tests and output as the interpreter has them', () => {
    const names = Object.keys(VALUES).concat(['missing']);
    const same = (src: string) => expect(agrees(src, VALUES), src).toBe('same');
    for (const a of names) {
      same(`{% if ${a} %}yes{% else %}no{% endif %}`);
      same(`{{ ${a} is defined }}|{{ ${a} is none }}|{{ ${a} is string }}|{{ ${a} is mapping }}|{{ ${a} is iterable }}|{{ ${a} is not number }}`);
      same(`{{ (${a} and 'x') is defined }}{% if not ${a} or s %}!{% endif %}`);
      expect(['same', 'bail'], a).toContain(agrees(`{{ ${a} == n }}{{ ${a} != s }}{{ ${a} == none }}{{ ${a} == ${a} }}`, VALUES));
    }
    for (const src of [
      `{{ s + 'd' }}{{ n + 4 }}{{ s + n }}{{ n ~ s }}{{ (l + el) | length }}`,
      `{{ 'b' in s }}{{ 'z' not in s }}{{ 'a' in l }}{{ 1 in l }}{{ 'a' in m }}{{ 'q' in missing }}{{ 'q' not in missing }}`,
      `{{ n - 1 }}{{ n * neg }}{{ n // 2 }}{{ neg % 3 }}{{ -n }}{{ n > z }}{{ n <= 3 }}`,
      `{{ s[0] }}{{ s[-1] }}{{ l[1] }}{{ l[-1] }}{{ l[9] }}{{ m.a }}{{ m['b'] }}{{ m.zz }}{{ missing.x }}{{ s.length }}{{ l.length }}`,
      `{{ l[::-1][0] }}{{ l[1:][0] }}{{ l[:-1] | length }}{{ l[::2] | last }}`,
      `{{ s | upper }}{{ ' pad ' | trim }}{{ l | length }}{{ s | length }}{{ l | first }}{{ l | last }}{{ (l | reverse)[0] }}`,
      `{{ 'a b  c'.split() | length }}{{ 'a,b,,c'.split(',')[2] }}{{ 'a,b,c'.split(',', 1)[1] }}{{ '  x\\n'.strip() }}{{ 'xy\\n'.rstrip('\\n') }}{{ '\\nxy'.lstrip() }}`,
      `{{ s.startswith('ab') }}{{ s.endswith(('x', 'c')) }}{{ s.upper() }}{{ 'AB'.lower() }}`,
      `{{ 'y' if t else 'n' }}{{ 'y' if f }}|{{ n if z else s }}`,
      `{{ n is odd }}{{ z is even }}{{ s is lower }}{{ 'AB' is upper }}{{ t is true }}{{ f is false }}{{ n is integer }}`,
    ]) same(src);
  });

  it('loops: the loop variables, else, mappings, and the scope a loop opens', () => {
    const context = {xs: ['a', 'b', 'c'], nothing: [], m: {k1: 1, k2: 2}, outer: 'o'};
    for (const src of [
      `{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}{{ x }};{% endfor %}`,
      `{% for x in nothing %}{{ x }}{% else %}empty{% endfor %}`,
      `{% for k in m %}{{ k }}={{ m[k] }},{% endfor %}`,
      // A set in a loop lasts the loop (later iterations see it), not after it; a namespace keeps it.
      `{% set ns = namespace(n=0, seen='') %}{% for x in xs %}{{ v }}{% set v = x %}{% set ns.n = ns.n + 1 %}{% set ns.seen = ns.seen + x %}{% endfor %}{{ v }}|{{ ns.n }}{{ ns.seen }}`,
      `{% set outer = 'changed' %}{% for x in xs %}{% set outer = x %}{% endfor %}{{ outer }}`,
      `{% for x in xs %}{% for y in xs %}{{ loop.index0 }}{% endfor %}{{ loop.index0 }}{% endfor %}`,
      `{% set block %}{% for x in xs %}{{ x }}{% endfor %}{% endset %}[{{ block }}]`,
    ]) expect(agrees(src, context), src).toBe('same');
  });

  it('leaves to the interpreter what it does not cover, at compile time or per request', () => {
    // Never compiled: macros, loop filters, break.
    for (const src of ['{% macro m() %}x{% endmacro %}{{ m() }}', '{% for x in xs if x %}{{ x }}{% endfor %}', '{% for x in xs %}{% break %}{% endfor %}']) {
      expect(compileTemplate((new Template(src) as unknown as {parsed: never}).parsed), src).toBeUndefined();
    }
    // Compiled, but these values go to the interpreter: it prints or raises them its own way.
    for (const src of ['{{ m | tojson }}', '{{ l }}', '{{ fl + 1 }}', '{{ raise_exception("no") }}', '{{ missing + 1 }}', '{{ s.title() }}', '{{ m.items() }}', '{{ l in l }}']) {
      expect(agrees(src, VALUES), src).toBe('bail');
    }
    expect(() => compiled('{{ x }}')({namespace: 1})).toThrow(TemplateBail);
    // A tree of a shape it does not know (an If without its else list): not compiled, never a throw.
    expect(compileTemplate({type: 'Program', body: [{type: 'If', test: {type: 'Identifier', value: 'x'}, body: []}]} as never)).toBeUndefined();
  });

  describe.each(['deepseek-r1', 'llama-3.1-8b', 'qwen3-0.6b'])('%s', (alias) => {
    it('compiles, and renders conversations as the interpreter does', async () => {
      const config = (await loadTokenizerFiles(resolveModel(alias))).tokenizerConfig;
      const source = config.chat_template as string;
      const toolCall = {role: 'assistant', content: alias.startsWith('deepseek') ? null : '', tool_calls: [{id: 'c1', type: 'function', function: {name: 'get_weather', arguments: '{"city": "Paris"}'}}]};
      const conversations: unknown[][] = [
        [],
        [{role: 'user', content: 'hi 🙂'}],
        [{role: 'system', content: 'be brief'}, {role: 'user', content: 'a'}, {role: 'assistant', content: '<think>\nplan\n</think>\n\nb'}, {role: 'user', content: 'c'}],
        [{role: 'user', content: 'weather?'}, toolCall, {role: 'tool', tool_call_id: 'c1', content: '{"temp": 21}'}, {role: 'tool', content: 'more'}, {role: 'assistant', content: 'warm'}],
        [{role: 'system', content: 'one'}, {role: 'system', content: 'two'}, {role: 'user', content: '東京 naïve'}],
        [{role: 'assistant', content: 'first'}, {role: 'user', content: '<tool_response>x</tool_response>'}],
      ];
      let same = 0;
      for (const messages of conversations) {
        for (const add_generation_prompt of [true, false]) {
          const context = {messages, tools: undefined, add_generation_prompt, bos_token: '<s>', eos_token: '</s>', enable_thinking: add_generation_prompt ? undefined : false};
          if (agrees(source, context) === 'same') same++;
        }
      }
      // The tool round trip is the only conversation any family's template can leave to the interpreter.
      expect(same).toBeGreaterThanOrEqual(conversations.length * 2 - 2);
    });
  });
});
