/**
 * The closed set of errors a user can see from the CLI (CONVENTIONS §5).
 * - UserError: the input is wrong; the message says what and the hint says what to do. Exit 1.
 * - ExternalError: something we started or reached failed; names the process/host and shows its log tail. Exit 1.
 * - Cancelled: the user stopped us (Ctrl-C). Exit 130.
 * Anything else is a bug: one line, and the stack only with --verbose.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface ExternalFailure {
  process?: string;
  host?: string;
  exitCode?: number | null;
  signal?: string | null;
  logTail?: string[];
  logFile?: string;
}

export class ExternalError extends Error {
  override readonly name = 'ExternalError';
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly failure: ExternalFailure = {},
  ) {
    super(message);
  }
}

export class Cancelled extends Error {
  override readonly name = 'Cancelled';
  readonly exitCode = 130;
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** Renders any error as the text the user sees on stderr, and the exit code to use. */
export function renderError(e: unknown, verbose = false): {text: string; exitCode: number} {
  if (e instanceof UserError) {
    return {text: `Error: ${e.message}${e.hint ? `\n  → ${e.hint}` : ''}`, exitCode: e.exitCode};
  }
  if (e instanceof ExternalError) {
    const f = e.failure;
    const lines = [`Error: ${e.message}`];
    const where = [f.process && `process ${f.process}`, f.host && `on ${f.host}`].filter(Boolean).join(' ');
    const how = f.signal ? `killed by ${f.signal}` : f.exitCode != null ? `exit code ${f.exitCode}` : '';
    if (where || how) lines.push(`  ${[where, how].filter(Boolean).join(', ')}`);
    if (f.logTail?.length) {
      lines.push('  last log lines:');
      for (const l of f.logTail) lines.push(`    │ ${l}`);
    }
    if (f.logFile) lines.push(`  full log: ${f.logFile}`);
    return {text: lines.join('\n'), exitCode: e.exitCode};
  }
  if (e instanceof Cancelled) return {text: e.message, exitCode: 130};
  const err = e instanceof Error ? e : new Error(String(e));
  const text = verbose
    ? `Internal error (a bug in dynamo): ${err.stack ?? err.message}`
    : `Internal error (a bug in dynamo): ${err.message}\n  → run again with --verbose for the stack trace, and report it`;
  return {text, exitCode: 70};
}
