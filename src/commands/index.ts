/**
 * Every command, by id, loaded on demand (oclif's explicit strategy; the single binary cannot
 * search the disk for commands). A process evaluates only the command it runs: `dynamo top` does
 * not hold the supervisor, the config schemas or the frontend's code (docs/top.md, "Cost").
 */
import type {Command} from '@oclif/core';

type Loader = () => Promise<{default: Command.Class}>;

export const COMMAND_LOADERS = {
  up: () => import('./up.js'),
  down: () => import('./down.js'),
  restart: () => import('./restart.js'),
  frontend: () => import('./frontend.js'),
  ps: () => import('./ps.js'),
  logs: () => import('./logs.js'),
  init: () => import('./init.js'),
  models: () => import('./models.js'),
  replay: () => import('./replay.js'),
  bench: () => import('./bench.js'),
  sanity: () => import('./sanity.js'),
  top: () => import('./top.js'),
  'config:print': () => import('./config/print.js'),
  'config:schema': () => import('./config/schema.js'),
  'config:env': () => import('./config/env.js'),
  tether: () => import('./tether.js'),
  'debug:test-model': () => import('./debug/test-model.js'),
  'debug:transfer-bench': () => import('./debug/transfer-bench.js'),
  worker: () => import('./worker.js'),
} satisfies Record<string, Loader>;

export type CommandId = keyof typeof COMMAND_LOADERS;
export const COMMAND_IDS = Object.keys(COMMAND_LOADERS) as CommandId[];

/** The command an argv runs (`top`, `config print` → `config:print`), or undefined (help, --version, a typo). */
export function commandIdOf(argv: readonly string[]): CommandId | undefined {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-') || words.length === 2) break;
    words.push(a);
  }
  const ids: readonly string[] = COMMAND_IDS;
  if (words.length === 2 && ids.includes(`${words[0]}:${words[1]}`)) return `${words[0]}:${words[1]}` as CommandId;
  return words[0] !== undefined && ids.includes(words[0]) ? (words[0] as CommandId) : undefined;
}

/** The command classes for `ids` (all of them by default), as oclif's command map. */
export async function loadCommands(ids: readonly CommandId[] = COMMAND_IDS): Promise<Record<string, Command.Class>> {
  const classes = await Promise.all(ids.map(async (id) => (await COMMAND_LOADERS[id]()).default));
  return Object.fromEntries(ids.map((id, i) => [id, classes[i]!]));
}
