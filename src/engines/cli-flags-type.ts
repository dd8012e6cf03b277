/** The command-line options one engine's server CLI accepts (see <engine>/cli-flags.ts). */
export interface EngineCliFlags {
  /** Source and version the list was read from (repository path and commit or tag). */
  source: string;
  /** Options that take exactly one value (`--x v` or `--x=v`). */
  values: readonly string[];
  /** Options that take no value. */
  switches: readonly string[];
  /** Options that take one or more values (argparse nargs '+' or '*'). */
  lists: readonly string[];
  /** Short aliases → their long name (e.g. '-tp': '--tensor-parallel-size'). */
  aliases: Readonly<Record<string, string>>;
}
