/**
 * Chat templates rendered incrementally: a conversation's next turn repeats every earlier message,
 * so the template's loop over the messages is resumed where the last turn's render left it, rather
 * than interpreted again from the first message.
 *
 * When it is sound, and how that is decided (never by guessing from the template's name):
 * - Statically, once per template: a top-level loop over the messages whose body cannot see later
 *   messages. Its body reads no `loop.last`, `loop.length`, `loop.revindex*` or `loop.nextitem`,
 *   never names the message list (no `messages[loop.index0 + 1]`), calls no macro of the template,
 *   and has no break/continue. Then iteration i's output and state depend only on the state before
 *   it and message i. Loops that look ahead (Qwen3 drops the reasoning of assistant turns before
 *   the last user query) run in full every time.
 * - At run time, per request and per loop: everything before the loop is rendered again, and the
 *   state the loop starts from must equal the state the checkpoint started from, compared variable
 *   by variable. The messages before the checkpoint must be the checkpoint's own (the caller keys
 *   checkpoints by the messages' content hash). Any difference: the loop runs from the first message.
 * A resumed render is the same string a full render gives; tests compare them over a corpus for
 * every bundled family.
 */
import {Environment, Interpreter, Template} from '@huggingface/jinja';
import {type Env, GLOBALS, type Node, RUNTIME, type Value} from './jinja-runtime.js';

const LOOKAHEAD = new Set(['last', 'length', 'revindex', 'revindex0', 'nextitem']);
const PLAIN = new Set(['StringValue', 'IntegerValue', 'FloatValue', 'BooleanValue', 'NullValue', 'UndefinedValue']);

/** Where the last render's message loop ended: resumable by a longer conversation with the same first `count` messages. */
export interface LoopCheckpoint {
  count: number;
  /**
   * The messages as the template saw them (runtime values): a next turn converts only its new
   * messages. Safe to share: this interpreter never changes an object or a list in place (only a
   * namespace's attributes can be set).
   */
  messages: readonly Value[];
  /** The loop's output for messages [0, count). */
  output: string;
  /** The state the loop started from: a resume must start from the same one. */
  startState: StateSnapshot;
  /** Namespace attributes and loop-scope variables after message count − 1. */
  namespaces: [string, [string, Value][]][];
  scope: [string, Value][];
}

function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) for (const x of node) walk(x, visit);
  else if (node instanceof Map) {
    for (const [k, v] of node) {
      walk(k, visit);
      walk(v, visit);
    }
  }
  else if (node && typeof node === 'object' && typeof (node as Node).type === 'string') {
    visit(node as Node);
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v, visit);
  }
}

/** Whether a loop's body cannot look past its own item (see the header). */
function bodyIsLocal(loop: Node, macros: Set<string>): boolean {
  const list = (loop.iterable as Node).value as string;
  let safe = true;
  // `loop` may be read only through a field that does not look ahead (not whole, as in `{{ loop }}`).
  const fieldReads = new Set<Node>();
  walk(loop.body, (n) => {
    if (n.type === 'MemberExpression' && (n.object as Node).type === 'Identifier' && (n.object as Node).value === 'loop') {
      if (LOOKAHEAD.has((n.property as Node).value as string)) safe = false;
      fieldReads.add(n.object as Node);
    }
  });
  walk(loop.body, (n) => {
    if (n.type === 'Break' || n.type === 'Continue') safe = false;
    if (n.type !== 'Identifier') return;
    if (n.value === 'messages' || n.value === list || macros.has(n.value as string)) safe = false;
    if (n.value === 'loop' && !fieldReads.has(n)) safe = false;
  });
  return safe;
}

/**
 * The template's top-level loops that can be resumed: over a plain identifier (at run time it must
 * be the message list itself), with a body that cannot look ahead. Every other loop runs in full
 * each time (its effect on the state a resumable loop starts from is compared, like any other).
 */
function resumableLoops(program: Node): Node[] {
  const macros = new Set<string>();
  walk(program, (n) => {
    if (n.type === 'Macro') macros.add((n.name as Node).value as string);
  });
  return (program.body as Node[]).filter(
    (n) => n.type === 'For' && (n.iterable as Node).type === 'Identifier' && (n.loopvar as Node).type === 'Identifier' && bodyIsLocal(n, macros),
  );
}

/**
 * A value as a checkpoint keeps it: plain values as they are (nothing changes them in place),
 * containers copied (`set ns.x` changes a namespace in place). Compared value by value, not as
 * text: serializing the state on every turn cost a third of a resumed render.
 */
type Snapshot = Value | {type: string; items: Snapshot[]} | {type: string; entries: [string, Snapshot][]};

/** Every variable the loop can read (except the message list, compared by the caller, and functions), by name. */
export type StateSnapshot = [string, Snapshot][];

/** The value's snapshot; undefined when it holds something a checkpoint cannot carry (functions). */
function snapshot(v: Value): Snapshot | undefined {
  if (PLAIN.has(v.type)) return v;
  if (v.type === 'ArrayValue') {
    const items: Snapshot[] = [];
    for (const x of v.value as Value[]) {
      const s = snapshot(x);
      if (s === undefined) return undefined;
      items.push(s);
    }
    return {type: v.type, items};
  }
  if (v.type === 'ObjectValue' || v.type === 'NamespaceValue') {
    const entries: [string, Snapshot][] = [];
    for (const [k, x] of v.value as Map<string, Value>) {
      const s = snapshot(x);
      if (s === undefined) return undefined;
      entries.push([k, s]);
    }
    return {type: v.type, entries};
  }
  return undefined;
}

/** Whether `v` is now what `s` recorded. */
function same(v: Value, s: Snapshot): boolean {
  if (v === s) return true;
  if (v.type !== s.type) return false;
  if (PLAIN.has(v.type)) return Object.is(v.value, (s as Value).value);
  if ('items' in s) {
    const items = v.value as Value[];
    return items.length === s.items.length && items.every((x, i) => same(x, s.items[i]!));
  }
  if (!('entries' in s)) return false;
  const map = v.value as Map<string, Value>;
  if (map.size !== s.entries.length) return false;
  let i = 0;
  for (const [k, x] of map) {
    const [sk, sx] = s.entries[i++]!;
    if (k !== sk || !same(x, sx)) return false;
  }
  return true;
}

/** Calls `visit` with every variable the loop can read (except the message list, compared by the caller, and functions), in scope order, until it returns false. */
function eachVariable(env: Env, messages: Value, visit: (name: string, v: Value) => boolean): boolean {
  const seen: string[] = [];
  for (let e: Env | undefined = env; e; e = e.parent) {
    for (const [name, v] of e.variables) {
      if (seen.includes(name)) continue;
      seen.push(name);
      if (v !== messages && v.type !== 'FunctionValue' && !visit(name, v)) return false;
    }
  }
  return true;
}

/** Whether the variables the loop can read are now what `recorded` holds. */
function sameState(env: Env, messages: Value, recorded: StateSnapshot): boolean {
  let i = 0;
  const all = eachVariable(env, messages, (name, v) => {
    const r = recorded[i++];
    return r !== undefined && r[0] === name && same(v, r[1]);
  });
  return all && i === recorded.length;
}

function snapshotState(env: Env, messages: Value): StateSnapshot | undefined {
  const out: StateSnapshot = [];
  const all = eachVariable(env, messages, (name, v) => {
    const s = snapshot(v);
    if (s !== undefined) out.push([name, s]);
    return s !== undefined;
  });
  return all ? out : undefined;
}

const isPlain = (v: Value) => PLAIN.has(v.type);

/** The interpreter's methods this module calls or overrides, typed. */
const BaseInterpreter = Interpreter as unknown as new (
  env: Environment,
) => {
  evaluateFor(node: Node, env: Environment): Value;
  evaluateBlock(body: unknown, env: Environment): Value;
  run(program: unknown): Value;
};

class ResumingInterpreter extends BaseInterpreter {
  /** Per resumable loop (by position): where it ended in this render. */
  readonly recorded: (LoopCheckpoint | undefined)[] = [];
  resumed = 0;

  constructor(
    env: Environment,
    private readonly loops: Node[],
    private readonly resume: readonly (LoopCheckpoint | undefined)[],
  ) {
    super(env);
  }

  override evaluateFor(n: Node, environment: Environment): Value {
    const at = this.loops.indexOf(n);
    const env = environment as Env;
    const messages = env.lookupVariable('messages');
    if (at < 0 || messages.type !== 'ArrayValue' || env.lookupVariable((n.iterable as Node).value as string) !== messages) return super.evaluateFor(n, environment);
    const items = messages.value as Value[];
    const scope = new Environment(environment) as Env;
    const name = (n.loopvar as Node).value as string;
    let result = '';
    let from = 0;
    const r = this.resume[at];
    // Taken before the loop runs (it changes namespaces in place); a resume starts from the recorded one.
    let startState: StateSnapshot | undefined;
    if (r && r.count <= items.length && sameState(env, messages, r.startState)) {
      startState = r.startState;
      for (const [ns, entries] of r.namespaces) (env.lookupVariable(ns) as {value: Map<string, Value>}).value = new Map(entries);
      for (const [k, v] of r.scope) scope.variables.set(k, v);
      result = r.output;
      from = r.count;
      this.resumed++;
    } else startState = snapshotState(env, messages);
    for (let i = from; i < items.length; i++) {
      const loop = new Map<string, Value>([
        ['index', new RUNTIME.Integer(i + 1)],
        ['index0', new RUNTIME.Integer(i)],
        ['first', new RUNTIME.Boolean(i === 0)],
        ['previtem', i > 0 ? items[i - 1]! : new RUNTIME.Undefined(undefined)],
      ]);
      scope.variables.set('loop', new RUNTIME.Object(loop));
      scope.variables.set(name, items[i]!);
      result += this.evaluateBlock(n.body, scope).value as string;
    }
    if (items.length === 0) result += this.evaluateBlock(n.defaultBlock, scope).value as string;
    this.recorded[at] = startState === undefined ? undefined : checkpoint(env, scope, items, result, startState, name);
    return new RUNTIME.String(result);
  }
}

/** The state after the loop, if it is made of plain values (a namespace of strings, numbers, booleans). */
function checkpoint(env: Env, scope: Env, messages: readonly Value[], output: string, startState: StateSnapshot, loopvar: string): LoopCheckpoint | undefined {
  const namespaces: LoopCheckpoint['namespaces'] = [];
  const seen = new Set<string>();
  for (let e: Env | undefined = env; e; e = e.parent) {
    for (const [name, v] of e.variables) {
      if (seen.has(name) || v.type !== 'NamespaceValue') continue;
      seen.add(name);
      const entries = [...(v.value as Map<string, Value>)];
      if (!entries.every(([, x]) => isPlain(x))) return undefined;
      namespaces.push([name, entries]);
    }
  }
  // Every environment holds the `namespace` builtin; the rest are the body's own `set`s.
  const kept = [...scope.variables].filter(([k, v]) => k !== 'loop' && k !== loopvar && v.type !== 'FunctionValue');
  if (!kept.every(([, v]) => isPlain(v))) return undefined;
  return {count: messages.length, messages, output: flat(output), startState, namespaces, scope: kept};
}

/**
 * The loop's output, built from thousands of concatenations, made contiguous once: engines keep
 * such a string as a tree of pieces, and every later turn that starts with it would walk the tree
 * again (~70 µs for a long chat). A search through the string flattens it in place.
 */
function flat(s: string): string {
  s.indexOf('\0');
  return s;
}

/**
 * The message list as runtime values, its first messages taken from a checkpoint rather than
 * converted again (every message is a map of values: converting a long conversation each turn cost
 * a quarter of a resumed render). The caller's contract makes it sound: the checkpoints are those
 * of the same first messages.
 */
function setMessages(env: Env, messages: unknown[], from: readonly (LoopCheckpoint | undefined)[]): void {
  const earlier = from.find((c) => c !== undefined && c.messages.length <= messages.length)?.messages;
  if (!earlier?.length) {
    env.set('messages', messages);
    return;
  }
  env.set('messages', messages.slice(earlier.length));
  const list = env.variables.get('messages') as {value: Value[]};
  list.value = earlier.concat(list.value);
}

export interface IncrementalRender {
  text: string;
  /** Where this render's message loops ended, to resume the next turn from. */
  checkpoints: (LoopCheckpoint | undefined)[];
  /** How many loops resumed from the checkpoints given. */
  resumed: number;
}

export class IncrementalTemplate {
  private readonly template: Template;
  /** The loops over the messages, when they can be resumed (see the header); none: always a full render. */
  readonly loops: Node[];

  constructor(source: string) {
    this.template = new Template(source);
    this.loops = resumableLoops(this.program);
  }

  /** The template's syntax tree (what template-compiler.ts compiles). */
  get program(): Node {
    return this.template.parsed as unknown as Node;
  }

  /** Renders `context` (its `messages` among it), resuming message loops from `from` where that is sound. */
  render(context: Record<string, unknown>, from: readonly (LoopCheckpoint | undefined)[] = []): IncrementalRender {
    if (!this.loops.length) return {text: this.template.render(context), checkpoints: [], resumed: 0};
    const env = new Environment(GLOBALS) as Env;
    for (const [k, v] of Object.entries(context)) {
      if (k === 'messages' && Array.isArray(v)) setMessages(env, v, from);
      else env.set(k, v);
    }
    const interpreter = new ResumingInterpreter(env, this.loops, from);
    const text = interpreter.run(this.template.parsed).value as string;
    return {text, checkpoints: interpreter.recorded, resumed: interpreter.resumed};
  }
}
