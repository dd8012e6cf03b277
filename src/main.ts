/**
 * Entry point for every way dynamo runs: the compiled binary, node on dist, or node + tsx on src.
 * oclif gets a static package.json and a pre-filled command map, so it never searches the disk for
 * commands (which fails inside a Bun binary). Errors are rendered here, once, for every command.
 */
import {Config, Errors, Plugin, flush, run} from '@oclif/core';
import {dirname} from 'node:path';
import pjson from '../package.json' with {type: 'json'};
import {renderError} from './shared/errors.js';
import {closestMatch} from './shared/suggest.js';
import {COMMAND_IDS, type CommandId, commandIdOf, loadCommands} from './commands/index.js';

const commandIds = () => COMMAND_IDS.map((id) => id.replace(/:/g, ' '));

/** One-line error with the closest command, instead of oclif's generic "not found". */
function unknownCommand(argv: string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  if (!words.length || argv[0]!.startsWith('-')) return undefined;
  const ids = commandIds();
  const topics = new Set(ids.filter((i) => i.includes(' ')).map((i) => i.split(' ')[0]!));
  if (ids.includes(words[0]!)) return undefined;
  if (topics.has(words[0]!)) {
    const two = `${words[0]} ${words[1] ?? ''}`.trim();
    if (words.length === 1 || ids.includes(two)) return undefined;
    const near = closestMatch(two, ids);
    return `unknown command "${two}".${near ? ` Did you mean "${near}"?` : ''} See \`dynamo ${words[0]} --help\`.`;
  }
  const near = closestMatch(words[0]!, ids);
  return `unknown command "${words[0]}".${near ? ` Did you mean "${near}"?` : ''} See \`dynamo --help\`.`;
}

function unknownFlag(e: Error & {flags?: string[]}, argv: string[], commands: Record<string, any>): string | undefined {
  if (!e.flags?.length) return undefined;
  const ids = commandIds();
  const words = argv.filter((a) => !a.startsWith('-'));
  const id = ids.find((i) => i === `${words[0]} ${words[1]}`) ?? ids.find((i) => i === words[0]);
  const cmd = id ? commands[id.replace(/ /g, ':')] : undefined;
  const names = Object.entries({...cmd?.baseFlags, ...cmd?.flags}).flatMap(([n, f]: [string, any]) => [
    `--${n}`,
    ...(f?.allowNo ? [`--no-${n}`] : []),
  ]);
  const bad = e.flags[0]!.split('=')[0]!;
  const near = closestMatch(bad, names);
  return `unknown flag ${bad}${id ? ` for "dynamo ${id}"` : ''}.${near ? ` Did you mean ${near}?` : ''} See \`dynamo ${id ?? ''} --help\`.`.replace('  ', ' ');
}

export async function main(args = process.argv.slice(2)): Promise<void> {
  // `dynamo help top` is `dynamo top --help` (oclif would look for a command "help:top").
  const argv = args[0] === 'help' ? [...args.slice(1), '--help'] : args;
  const verbose = argv.includes('--verbose') || process.env.DYN_VERBOSE === '1';
  const notFound = unknownCommand(argv);
  if (notFound) {
    process.stderr.write(`Error: ${notFound}\n`);
    process.exitCode = 2;
    return;
  }
  const root = dirname(process.execPath); // nothing is read from it
  const plugin = new Plugin({root, isRoot: true, pjson: pjson as any, ignoreManifest: true});
  // Only the command being run is loaded; help and --version list them all.
  const id = commandIdOf(argv);
  const commands = await loadCommands(id ? [id as CommandId] : undefined);
  (plugin as any).commandCache = commands;
  await plugin.load();
  const config = await Config.load({root, pjson: pjson as any, plugins: new Map([[plugin.name, plugin]])});
  try {
    await run(argv, config);
    await flush();
  } catch (e) {
    if (e instanceof Errors.ExitError) {
      process.exitCode = e.oclif.exit;
      return;
    }
    const flagMsg = e instanceof Error && Array.isArray((e as any).flags) && e.message.startsWith('Nonexistent flag') ? unknownFlag(e as any, argv, commands) : undefined;
    if (flagMsg) {
      process.stderr.write(`Error: ${flagMsg}\n`);
      process.exitCode = 2;
      return;
    }
    const parseError = e instanceof Error && /^(Parsing --|Expected |Missing |Unexpected argument|Flag --|The following error occurred|--[a-z-]+=)/.test(e.message);
    if (parseError) {
      // oclif's own parse errors (bad value, missing value, bad option): one line, exit 2.
      const text = e.message.replace(/\nSee more help with --help/, '').replace(/^The following error occurred:\s*/, '').replace(/:?\s*\n\s*/g, ': ').replace(/ {2,}/g, ' — ').trim();
      process.stderr.write(`Error: ${text}. See \`dynamo ${argv[0] ?? ''} --help\`.\n`);
      process.exitCode = 2;
      return;
    }
    const {text, exitCode} = renderError(e, verbose);
    process.stderr.write(`${text}\n`);
    process.exitCode = exitCode;
  }
}

void main();
