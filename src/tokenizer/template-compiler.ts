/**
 * Chat templates compiled to JavaScript. The interpreter of @huggingface/jinja wraps every value in
 * a runtime object and walks the syntax tree on each render; a chat template is a handful of loops,
 * conditions and concatenations over the messages, so the same template as one JS function renders
 * a whole conversation in about a microsecond (DeepSeek's, 17 messages), faster than the
 * interpreter resumes one from its last turn.
 *
 * What it must equal is the interpreter's output (not Python Jinja's): values are plain JS values
 * with the interpreter's semantics for truthiness, `+`, `in`, member access, tests, filters and
 * string methods (its `strip('\n')` ignores the argument; so does this). Two ways out keep it exact:
 * - at compile time, any node, test, filter or call outside the subset below: no compiled form
 *   (the template is always interpreted);
 * - at run time, any value the subset does not cover (an operation on undefined, a float in
 *   arithmetic, an object printed, `tojson`, `raise_exception`): `TemplateBail`, and the caller
 *   renders with the interpreter, which gives the same text or its own error.
 * Scoping follows the interpreter: each `for` opens one scope for the whole loop (its `set`s and
 * `loop` live there), `if` opens none, lookups walk the scopes outwards and then the globals.
 * Tests compare both over conversations of every bundled family (template-compiler.test.ts).
 */

import type {Node} from './jinja-runtime.js';

/** A value the compiled template does not handle: render this request with the interpreter. */
export class TemplateBail extends Error {}

/** A compiled template: the context (messages, tools, add_generation_prompt, ...) to the prompt. */
export type CompiledTemplate = (context: Record<string, unknown>) => string;

class Unsupported extends Error {}

/** `namespace(...)`'s value: attributes that `set ns.x = ...` changes in place. */
class Namespace {
  constructor(readonly attrs: Map<string, unknown>) {}
}

/** Functions of the globals: markers, since only `namespace` is callable here (the others bail). */
const NAMESPACE = Symbol('namespace');
const OTHER_FUNCTION = Symbol('function');
const GLOBALS: Record<string, unknown> = {true: true, false: false, none: null, True: true, False: false, None: null, raise_exception: OTHER_FUNCTION, range: OTHER_FUNCTION, strftime_now: OTHER_FUNCTION};
/** Methods of the interpreter's objects, found when a key is missing. */
const OBJECT_BUILTINS = new Set(['get', 'items', 'keys', 'values']);
const TESTS = new Set(['defined', 'undefined', 'none', 'string', 'number', 'integer', 'iterable', 'mapping', 'sequence', 'true', 'false', 'odd', 'even', 'lower', 'upper']);
const FILTERS = new Set(['safe', 'trim', 'length', 'string', 'first', 'last', 'upper', 'lower', 'list', 'reverse', 'tojson']);

function bail(): never {
  throw new TemplateBail();
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Namespace);
const isInteger = (v: unknown): v is number => Number.isInteger(v);

/** The helpers generated code calls: the interpreter's semantics on plain values. */
const R = {
  bail,
  truthy(v: unknown): boolean {
    if (typeof v === 'string') return v.length > 0;
    if (typeof v === 'number') return v !== 0;
    if (typeof v === 'boolean') return v;
    if (v === null || v === undefined) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (isMapping(v)) return Object.keys(v).length > 0;
    return true; // namespaces and functions
  },
  /** A statement's output. */
  str(v: unknown): string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (v === null || v === undefined) return '';
    return bail(); // lists, objects, namespaces print as JSON
  },
  member(o: unknown, k: unknown): unknown {
    if (o instanceof Namespace) return typeof k === 'string' ? o.attrs.get(k) : bail();
    if (isMapping(o)) {
      if (typeof k !== 'string') return bail();
      if (Object.hasOwn(o, k)) return o[k];
      return OBJECT_BUILTINS.has(k) ? bail() : undefined;
    }
    if (Array.isArray(o) || typeof o === 'string') {
      if (isInteger(k)) return o.at(k);
      if (k === 'length') return o.length;
      return typeof k === 'string' && (Array.isArray(o) || !STRING_METHODS.has(k)) ? undefined : bail();
    }
    return typeof k === 'string' && typeof o !== 'symbol' ? undefined : bail();
  },
  slice(o: unknown, start: unknown, stop: unknown, step: unknown): unknown[] {
    if (!Array.isArray(o)) return bail(); // strings slice by code point: the interpreter's
    for (const x of [start, stop, step]) if (x !== undefined && !isInteger(x)) bail();
    const by = (step as number | undefined) ?? 1;
    if (by === 0) bail();
    const n = o.length;
    let from: number;
    let to: number;
    if (by > 0) {
      from = start === undefined ? 0 : (start as number) < 0 ? Math.max(n + (start as number), 0) : Math.min(start as number, n);
      to = stop === undefined ? n : (stop as number) < 0 ? Math.max(n + (stop as number), 0) : Math.min(stop as number, n);
    } else {
      from = start === undefined ? n - 1 : (start as number) < 0 ? Math.max(n + (start as number), -1) : Math.min(start as number, n - 1);
      to = stop === undefined ? -1 : (stop as number) < -1 ? Math.max(n + (stop as number), -1) : Math.min(stop as number, n - 1);
    }
    const out: unknown[] = [];
    for (let i = from; Math.sign(by) * i < Math.sign(by) * to; i += by) out.push(o[i]);
    return out;
  },
  method(o: unknown, name: string, args: unknown[]): unknown {
    if (typeof o !== 'string') return bail();
    switch (name) {
      case 'upper':
        return o.toUpperCase();
      case 'lower':
        return o.toLowerCase();
      case 'strip':
        return o.trim();
      case 'lstrip':
        return o.trimStart();
      case 'rstrip':
        return o.trimEnd();
      case 'startswith':
      case 'endswith': {
        const test = (p: unknown) => (typeof p === 'string' ? (name === 'startswith' ? o.startsWith(p) : o.endsWith(p)) : bail());
        const p = args[0];
        if (typeof p === 'string') return test(p);
        if (Array.isArray(p)) return p.some(test);
        return bail();
      }
      case 'split':
        return split(o, args);
      default:
        return bail();
    }
  },
  namespace(kwargs: [string, unknown][]): Namespace {
    return new Namespace(new Map(kwargs));
  },
  setAttr(o: unknown, k: string, v: unknown): void {
    if (!(o instanceof Namespace)) bail();
    o.attrs.set(k, v);
  },
  /** `==` compares the raw values loosely; a container against a plain value prints the interpreter's wrappers. */
  eq(a: unknown, b: unknown): boolean {
    const ca = typeof a === 'object' && a !== null;
    const cb = typeof b === 'object' && b !== null;
    if (ca !== cb) return bail();
    // biome-ignore lint/suspicious/noDoubleEquals: the interpreter compares its values' raw values loosely (1 == true, undefined == none)
    return ca ? a === b : a == b;
  },
  add(a: unknown, b: unknown): unknown {
    if (isInteger(a) && isInteger(b)) return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return a.concat(b);
    if ((typeof a === 'string' || typeof b === 'string') && primitive(a) && primitive(b)) return String(a) + String(b);
    return bail();
  },
  arith(op: string, a: unknown, b: unknown): number {
    if (!isInteger(a) || !isInteger(b)) return bail();
    if (op === '-') return a - b;
    if (op === '*') return a * b;
    if (b === 0) return bail();
    return op === '//' ? Math.floor(a / b) : a % b;
  },
  concat(a: unknown, b: unknown): string {
    return primitive(a) && primitive(b) ? String(a) + String(b) : bail();
  },
  compare(op: string, a: unknown, b: unknown): boolean {
    if (typeof a !== 'number' || typeof b !== 'number') return bail();
    return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  },
  contains(needle: unknown, haystack: unknown): boolean {
    if (haystack === undefined) return false;
    if (needle === undefined || needle === null || haystack === null) return bail();
    // A list in a list, or a number in a number, is an error in the interpreter.
    if (Array.isArray(haystack)) return Array.isArray(needle) ? bail() : haystack.some((x) => x === needle);
    if (typeof haystack === 'string' && typeof needle === 'string') return haystack.includes(needle);
    if (typeof needle === 'string' && isMapping(haystack)) return Object.hasOwn(haystack, needle);
    return bail();
  },
  negate(a: unknown): number {
    return isInteger(a) ? -a : bail();
  },
  test(name: string, v: unknown): boolean {
    switch (name) {
      case 'defined':
        return v !== undefined;
      case 'undefined':
        return v === undefined;
      case 'none':
        return v === null;
      case 'string':
        return typeof v === 'string';
      case 'number':
        return typeof v === 'number';
      case 'integer':
        return isInteger(v);
      case 'iterable':
        return Array.isArray(v) || typeof v === 'string';
      case 'mapping':
        return isMapping(v);
      case 'sequence':
        return Array.isArray(v) || isMapping(v) || typeof v === 'string';
      case 'true':
        return v === true;
      case 'false':
        return v === false;
      case 'odd':
      case 'even':
        return isInteger(v) ? Math.abs(v % 2) === (name === 'odd' ? 1 : 0) : bail();
      case 'lower':
        return typeof v === 'string' && v === v.toLowerCase();
      default:
        return typeof v === 'string' && v === v.toUpperCase();
    }
  },
  filter(name: string, v: unknown): unknown {
    if (name === 'safe') return v;
    if (Array.isArray(v)) {
      if (name === 'list') return v;
      if (name === 'first') return v[0];
      if (name === 'last') return v[v.length - 1];
      if (name === 'length') return v.length;
      if (name === 'reverse') return v.slice().reverse();
    } else if (typeof v === 'string') {
      if (name === 'length') return v.length;
      if (name === 'upper') return v.toUpperCase();
      if (name === 'lower') return v.toLowerCase();
      if (name === 'trim') return v.trim();
      if (name === 'string') return v;
    }
    return bail(); // tojson among them: its exact spacing is the interpreter's
  },
  /** What a `for` iterates: a list's items, a mapping's keys. */
  items(v: unknown): unknown[] {
    if (Array.isArray(v)) return v;
    if (isMapping(v)) return Object.keys(v);
    return bail();
  },
  loop(items: unknown[], i: number): Record<string, unknown> {
    const n = items.length;
    return {index: i + 1, index0: i, revindex: n - i, revindex0: n - i - 1, first: i === 0, last: i === n - 1, length: n, previtem: items[i - 1], nextitem: items[i + 1]};
  },
};

const STRING_METHODS = new Set(['upper', 'lower', 'strip', 'title', 'capitalize', 'rstrip', 'lstrip', 'startswith', 'endswith', 'split', 'replace']);

const primitive = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Python's `str.split(sep=None, maxsplit=-1)` as the interpreter implements it. */
function split(s: string, args: unknown[]): string[] {
  // A missing argument takes the default; an undefined one is an error (the interpreter's).
  const sep = args.length > 0 ? args[0] : null;
  const max = args.length > 1 ? args[1] : -1;
  if ((sep !== null && typeof sep !== 'string') || !isInteger(max) || sep === '') return bail();
  if (sep === null) {
    const text = s.trimStart();
    const out: string[] = [];
    for (const m of text.matchAll(/\S+/g)) {
      if (max !== -1 && out.length >= max) {
        out.push(m[0] + text.slice(m.index + m[0].length));
        break;
      }
      out.push(m[0]);
    }
    return out;
  }
  const out = s.split(sep);
  if (max !== -1 && out.length > max) out.push(out.splice(max).join(sep));
  return out;
}

/** Generates the function's source: statements append to an output variable, expressions are JS expressions. */
class Generator {
  private count = 0;
  /** The JS names of the scope maps, outermost (the render's globals) first. */
  private readonly scopes = ['g'];
  readonly temps: string[] = [];

  private fresh(prefix: string): string {
    return `${prefix}${this.count++}`;
  }

  private temp(): string {
    const t = this.fresh('t');
    this.temps.push(t);
    return t;
  }

  block(body: unknown, out: string): string {
    return (body as Node[]).map((s) => this.statement(s, out)).join('\n');
  }

  private statement(n: Node, out: string): string {
    switch (n.type) {
      case 'If':
        return `if (R.truthy(${this.expr(n.test as Node)})) {\n${this.block(n.body, out)}\n} else {\n${this.block(n.alternate, out)}\n}`;
      case 'For':
        return this.forLoop(n, out);
      case 'Set':
        return this.set(n);
      case 'StringLiteral':
        return `${out} += ${JSON.stringify(n.value)};`;
      case 'Program':
      case 'Macro':
      case 'CallStatement':
      case 'FilterStatement':
      case 'Break':
      case 'Continue':
      case 'Comment':
        throw new Unsupported(n.type);
      default:
        return `${out} += R.str(${this.expr(n)});`;
    }
  }

  private forLoop(n: Node, out: string): string {
    const loopvar = n.loopvar as Node;
    if (loopvar.type !== 'Identifier' || (n.iterable as Node).type === 'SelectExpression') throw new Unsupported('for');
    const scope = this.fresh('s');
    const items = this.fresh('items');
    const i = this.fresh('i');
    this.scopes.push(scope);
    // The interpreter evaluates the iterable in the loop's new scope (which holds nothing yet).
    const iterable = this.expr(n.iterable as Node);
    const body = this.block(n.body, out);
    const otherwise = this.block(n.defaultBlock, out);
    this.scopes.pop();
    return [
      `{ const ${scope} = new Map(); const ${items} = R.items(${iterable});`,
      `for (let ${i} = 0; ${i} < ${items}.length; ${i}++) {`,
      `${scope}.set('loop', R.loop(${items}, ${i})); ${scope}.set(${JSON.stringify(loopvar.value)}, ${items}[${i}]);`,
      body,
      `}`,
      `if (${items}.length === 0) {\n${otherwise}\n} }`,
    ].join('\n');
  }

  private set(n: Node): string {
    const assignee = n.assignee as Node;
    let value: string;
    let prelude = '';
    if (n.value) value = this.expr(n.value as Node);
    else {
      value = this.fresh('o');
      prelude = `let ${value} = '';\n${this.block(n.body, value)}\n`;
    }
    if (assignee.type === 'Identifier') {
      if (assignee.value === 'namespace') throw new Unsupported('set namespace');
      return `${prelude}${this.scopes.at(-1)}.set(${JSON.stringify(assignee.value)}, ${value});`;
    }
    if (assignee.type === 'MemberExpression' && !assignee.computed && (assignee.property as Node).type === 'Identifier') {
      const v = this.temp();
      return `${prelude}${v} = ${value}; R.setAttr(${this.expr(assignee.object as Node)}, ${JSON.stringify((assignee.property as Node).value)}, ${v});`;
    }
    throw new Unsupported('set');
  }

  expr(n: Node): string {
    switch (n.type) {
      case 'StringLiteral':
        return JSON.stringify(n.value);
      case 'IntegerLiteral':
        return `(${Number(n.value)})`;
      case 'ArrayLiteral':
      case 'TupleLiteral':
        return `[${(n.value as Node[]).map((x) => this.expr(x)).join(', ')}]`;
      case 'Identifier':
        return this.lookup(n.value as string);
      case 'MemberExpression':
        return this.member(n);
      case 'CallExpression':
        return this.call(n);
      case 'BinaryExpression':
        return this.binary(n);
      case 'UnaryExpression': {
        const op = (n.operator as Node).value;
        const a = this.expr(n.argument as Node);
        if (op === 'not') return `(!R.truthy(${a}))`;
        if (op === '-') return `R.negate(${a})`;
        throw new Unsupported(`unary ${op}`);
      }
      case 'TestExpression': {
        const name = (n.test as Node).value as string;
        if (!TESTS.has(name)) throw new Unsupported(`test ${name}`);
        return `(${n.negate ? '!' : ''}R.test(${JSON.stringify(name)}, ${this.expr(n.operand as Node)}))`;
      }
      case 'FilterExpression': {
        const f = n.filter as Node;
        if (f.type !== 'Identifier' || !FILTERS.has(f.value as string)) throw new Unsupported('filter');
        return `R.filter(${JSON.stringify(f.value)}, ${this.expr(n.operand as Node)})`;
      }
      case 'SelectExpression':
        return `(R.truthy(${this.expr(n.test as Node)}) ? ${this.expr(n.lhs as Node)} : undefined)`;
      case 'Ternary':
        return `(R.truthy(${this.expr(n.condition as Node)}) ? ${this.expr(n.trueExpr as Node)} : ${this.expr(n.falseExpr as Node)})`;
      default:
        throw new Unsupported(n.type);
    }
  }

  /** A name, from the innermost scope out, then the globals. Every scope holds `namespace`. */
  private lookup(name: string): string {
    if (name === 'namespace') return 'NAMESPACE';
    const key = JSON.stringify(name);
    let code = Object.hasOwn(GLOBALS, name) ? `G[${key}]` : 'undefined';
    for (const s of this.scopes) code = `(${s}.has(${key}) ? ${s}.get(${key}) : ${code})`;
    return code;
  }

  private member(n: Node): string {
    const object = this.expr(n.object as Node);
    const p = n.property as Node;
    if (!n.computed) return `R.member(${object}, ${p.type === 'IntegerLiteral' ? Number(p.value) : JSON.stringify(p.value)})`;
    if (p.type === 'SliceExpression') {
      const part = (x: unknown) => (x ? this.expr(x as Node) : 'undefined');
      return `R.slice(${object}, ${part(p.start)}, ${part(p.stop)}, ${part(p.step)})`;
    }
    return `R.member(${object}, ${this.expr(p)})`;
  }

  private call(n: Node): string {
    const callee = n.callee as Node;
    const args = n.args as Node[];
    const keywords = args.filter((a) => a.type === 'KeywordArgumentExpression');
    const positional = args.filter((a) => a.type !== 'KeywordArgumentExpression');
    if (args.some((a) => a.type === 'SpreadExpression' || a.type === 'KeywordSpreadExpression')) throw new Unsupported('spread');
    if (callee.type === 'Identifier' && callee.value === 'namespace') {
      if (positional.length) throw new Unsupported('namespace(dict)');
      return `R.namespace([${keywords.map((k) => `[${JSON.stringify((k.key as Node).value)}, ${this.expr(k.value as Node)}]`).join(', ')}])`;
    }
    // raise_exception and the like: the interpreter renders this request (and raises its error).
    if (callee.type === 'Identifier' && Object.hasOwn(GLOBALS, callee.value as string)) return 'R.bail()';
    if (callee.type === 'MemberExpression' && !callee.computed && !keywords.length) {
      return `R.method(${this.expr(callee.object as Node)}, ${JSON.stringify((callee.property as Node).value)}, [${positional.map((a) => this.expr(a)).join(', ')}])`;
    }
    throw new Unsupported('call');
  }

  private binary(n: Node): string {
    const op = (n.operator as Node).value as string;
    const a = this.expr(n.left as Node);
    const b = this.expr(n.right as Node);
    switch (op) {
      case 'and':
      case 'or': {
        const t = this.temp();
        return op === 'and' ? `(R.truthy(${t} = ${a}) ? ${b} : ${t})` : `(R.truthy(${t} = ${a}) ? ${t} : ${b})`;
      }
      case '==':
        return `R.eq(${a}, ${b})`;
      case '!=':
        return `(!R.eq(${a}, ${b}))`;
      case '+':
        return `R.add(${a}, ${b})`;
      case '-':
      case '*':
      case '//':
      case '%':
        return `R.arith(${JSON.stringify(op)}, ${a}, ${b})`;
      case '~':
        return `R.concat(${a}, ${b})`;
      case '<':
      case '>':
      case '<=':
      case '>=':
        return `R.compare(${JSON.stringify(op)}, ${a}, ${b})`;
      case 'in':
        return `R.contains(${a}, ${b})`;
      case 'not in':
        return `(!R.contains(${a}, ${b}))`;
      default:
        throw new Unsupported(`operator ${op}`);
    }
  }
}

/**
 * The template as a JS function, or undefined when it uses something the compiler does not cover.
 * A syntax tree of a shape it does not expect (a template from a GGUF file, a newer parser) is
 * not covered either: the interpreter, which parsed it, renders it.
 */
export function compileTemplate(program: Node): CompiledTemplate | undefined {
  try {
    const gen = new Generator();
    const body = gen.block(program.body, 'out');
    const temps = gen.temps.length ? `let ${gen.temps.join(', ')};\n` : '';
    const source = `return function render(context) {\nif (Object.hasOwn(context, 'namespace')) R.bail();\nconst g = new Map(Object.entries(context));\n${temps}let out = '';\n${body}\nreturn out;\n};`;
    return new Function('R', 'G', 'NAMESPACE', source)(R, GLOBALS, NAMESPACE) as CompiledTemplate;
  } catch {
    return undefined;
  }
}
