/**
 * The running supervisor's control socket: `<run dir>/control.sock`, a Unix socket only its user
 * can open (the run directory is theirs), one JSON request per connection, answered by JSON lines
 * of progress and one final `{done}` line. `dynamo restart` talks to it; signals stay for stop.
 */
import {chmodSync, rmSync} from 'node:fs';
import {type Server, connect, createServer} from 'node:net';
import {join} from 'node:path';
import {createInterface} from 'node:readline';
import {ExternalError, UserError} from '../shared/errors.js';

export const controlSocketOf = (runDir: string) => join(runDir, 'control.sock');

export type ControlRequest = {op: 'restart'; role?: string};

type ControlLine = {line: string} | {done: true; ok: boolean; error?: string; fix?: string};

/** What the supervisor does for a request: says progress through `say`, throws to fail it. */
export type ControlHandler = (req: ControlRequest, say: (line: string) => void) => Promise<void>;

function parseRequest(text: string): ControlRequest | undefined {
  try {
    const r = JSON.parse(text) as Partial<ControlRequest>;
    if (r.op === 'restart' && (r.role === undefined || typeof r.role === 'string')) return {op: 'restart', role: r.role};
  } catch {}
  return undefined;
}

export function serveControl(runDir: string, handle: ControlHandler): Promise<Server> {
  const path = controlSocketOf(runDir);
  rmSync(path, {force: true});
  const server = createServer((sock) => {
    const send = (l: ControlLine) => sock.writable && sock.write(`${JSON.stringify(l)}\n`);
    sock.on('error', () => {});
    createInterface({input: sock}).once('line', (text) => {
      const req = parseRequest(text);
      if (!req) {
        send({done: true, ok: false, error: `not a control request: ${text.slice(0, 80)}`});
        sock.end();
        return;
      }
      handle(req, (line) => send({line}))
        .then(() => send({done: true, ok: true}))
        .catch((e: Error) => send({done: true, ok: false, error: e.message, fix: e instanceof UserError ? e.hint : undefined}))
        .finally(() => sock.end());
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o600);
      resolve(server);
    });
  });
}

/** Sends one request to a running supervisor; `onLine` hears its progress; throws its failure. */
export async function sendControl(runDir: string, name: string, req: ControlRequest, onLine: (line: string) => void): Promise<void> {
  const sock = connect(controlSocketOf(runDir));
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UserError(`cannot reach the supervisor of ${name} (${e.code ?? e.message})`, 'it may be an older dynamo, or stopping: see `dynamo ps`')),
    );
  });
  sock.write(`${JSON.stringify(req)}\n`);
  for await (const text of createInterface({input: sock})) {
    const l = JSON.parse(text) as ControlLine;
    if ('line' in l) onLine(l.line);
    else if (l.ok) return;
    else throw l.fix ? new UserError(l.error ?? 'failed', l.fix) : new ExternalError(l.error ?? 'failed');
  }
  throw new ExternalError(`the supervisor of ${name} closed the control connection without an answer`);
}
