/**
 * Extra engine arguments checked at plan time against what each engine's CLI takes (the tables in
 * <engine>/cli-flags.ts; each names the release it was read from), so a typo fails `dynamo up` at
 * once, in the words the engine itself would print, instead of after minutes of model loading.
 * A flag newer than its table can be let through with engineOptions.checkEngineArgs: false. Pure.
 *
 * Parsing follows each CLI's own rules: argparse (vLLM, SGLang) takes `--x v` and `--x=v`, lists
 * up to the next option, and any unique prefix of a long option; vLLM also takes `--max_model_len`
 * for `--max-model-len` and dotted keys into its JSON options (`--compilation-config.level 3`);
 * click (TensorRT-LLM) takes options only as declared.
 */
import type {EngineCliFlags} from './cli-flags-type.js';
import type {RealEngine} from './launch.js';
import {SGLANG_REFUSAL, SGLANG_SERVER_FLAGS} from './sglang/cli-flags.js';
import {TRTLLM_REFUSAL, TRTLLM_SERVE_FLAGS} from './trtllm/cli-flags.js';
import {VLLM_REFUSAL, VLLM_SERVE_FLAGS} from './vllm/cli-flags.js';

interface Cli {
  table: EngineCliFlags;
  unknown(flags: string[]): string;
  missingValue(flag: string): string;
  /** argparse: a unique prefix of a long option names it. */
  prefixes: boolean;
  /** vLLM: underscores for dashes, dotted keys into JSON options. */
  flexible: boolean;
}

const argparseMissing = (flag: string) => `argument ${flag}: expected one argument`;

const CLIS: Record<RealEngine, Cli> = {
  vllm: {table: VLLM_SERVE_FLAGS, unknown: VLLM_REFUSAL.unknown, missingValue: argparseMissing, prefixes: true, flexible: true},
  sglang: {table: SGLANG_SERVER_FLAGS, unknown: SGLANG_REFUSAL.unknown, missingValue: argparseMissing, prefixes: true, flexible: false},
  trtllm: {table: TRTLLM_SERVE_FLAGS, unknown: TRTLLM_REFUSAL.unknown, missingValue: (flag) => `Option '${flag}' requires an argument.`, prefixes: false, flexible: false},
};

interface Known {
  values: Set<string>;
  switches: Set<string>;
  lists: Set<string>;
  all: string[];
}
const sets = new Map<RealEngine, Known>();
function setsOf(engine: RealEngine): Known {
  let s = sets.get(engine);
  if (!s) {
    const t = CLIS[engine].table;
    s = {values: new Set(t.values), switches: new Set(t.switches), lists: new Set(t.lists), all: [...t.values, ...t.switches, ...t.lists]};
    sets.set(engine, s);
  }
  return s;
}

/** argparse's abbreviations: the one long option `name` is a prefix of, if exactly one. */
function expand(known: Known, name: string): string {
  if (!name.startsWith('--') || known.all.includes(name)) return name;
  const matches = known.all.filter((k) => k.startsWith(name));
  return matches.length === 1 ? matches[0]! : name;
}

/** The engine's complaint about `args`, as its CLI words it; undefined when it would take them. */
export function checkEngineArgs(engine: RealEngine, args: readonly string[]): string | undefined {
  const cli = CLIS[engine];
  const known = setsOf(engine);
  const unknown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      unknown.push(arg); // a stray positional
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0;
    name = cli.table.aliases[name] ?? name;
    if (cli.flexible && name.startsWith('--')) {
      name = `--${name.slice(2).replace(/_/g, '-')}`;
      const dot = name.indexOf('.');
      if (dot > 0 && known.values.has(name.slice(0, dot))) name = name.slice(0, dot);
    }
    if (cli.prefixes) name = expand(known, name);
    if (known.values.has(name)) {
      if (!inline && (i + 1 >= args.length || args[i + 1]!.startsWith('--'))) return cli.missingValue(name);
      if (!inline) i++;
    } else if (known.lists.has(name)) {
      if (!inline && (i + 1 >= args.length || args[i + 1]!.startsWith('-'))) return cli.missingValue(name);
      while (i + 1 < args.length && !args[i + 1]!.startsWith('-')) i++;
    } else if (!known.switches.has(name)) {
      unknown.push(arg);
    }
  }
  return unknown.length ? cli.unknown(unknown) : undefined;
}
