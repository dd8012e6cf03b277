/**
 * What incremental rendering needs of @huggingface/jinja's runtime that the package does not export
 * (its version is pinned in package.json): the value classes, taken from values it builds, and the
 * globals `Template.render` sets up (true/false/none, raise_exception, range, strftime_now), taken
 * from one render. Also one fix: `Environment.lookupVariable` resolves through a try/catch that
 * keeps the engine from optimizing it; the same lookup as a plain walk up the scopes renders a
 * short chat 3× faster (same result: values are runtime objects, never undefined).
 */
import {Environment, Interpreter, Template} from '@huggingface/jinja';

export type Value = {type: string; value: unknown};
/** A node of a parsed template's syntax tree, as the package builds it. */
export type Node = {type: string; [k: string]: unknown};
export type Env = Environment & {variables: Map<string, Value>; parent?: Env};
type ValueClass = new (v: unknown) => Value;

const probe = new Environment() as Env;
probe.set('o', {});
probe.set('i', 0);
probe.set('b', true);
probe.set('s', '');
const classOf = (name: string) => (probe.lookupVariable(name) as unknown as {constructor: ValueClass}).constructor;

export const RUNTIME = {Object: classOf('o'), Integer: classOf('i'), Boolean: classOf('b'), String: classOf('s'), Undefined: classOf('missing')};

(Environment.prototype as unknown as {lookupVariable(this: Env, name: string): Value}).lookupVariable = function (name) {
  for (let e: Env | undefined = this; e; e = e.parent) {
    const v = e.variables.get(name);
    if (v !== undefined) return v;
  }
  return new RUNTIME.Undefined(undefined);
};

export const GLOBALS: Env = (() => {
  const proto = Interpreter.prototype as unknown as {run(this: {global: Env}, p: unknown): unknown};
  const run = proto.run;
  let env: Env | undefined;
  proto.run = function (p) {
    env = this.global;
    return run.call(this, p);
  };
  try {
    new Template('').render({});
  } finally {
    proto.run = run;
  }
  return env!;
})();
