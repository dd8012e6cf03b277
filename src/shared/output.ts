/**
 * The one module that writes to the terminal. Results go to stdout; progress, logs and errors to
 * stderr (so `--json` output pipes cleanly).
 */
const useColor = () => !process.env.NO_COLOR && Boolean(process.stdout.isTTY);
const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function json(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** A plain aligned table (no borders), the way `ps` and `docker ps` print. */
export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (!rows.length) return '';
  const cols = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Prefixes a child's output line with `role@host │`, coloured per process on a terminal. */
export function prefixer(labels: string[]): (label: string, line: string) => string {
  const width = Math.max(...labels.map((l) => l.length), 0);
  const colorOf = new Map(labels.map((l, i) => [l, PALETTE[i % PALETTE.length]!]));
  return (label, line) => {
    const tag = label.padEnd(width);
    return useColor() ? `\x1b[${colorOf.get(label) ?? 37}m${tag} │\x1b[0m ${line}` : `${tag} │ ${line}`;
  };
}
