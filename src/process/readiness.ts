/**
 * Readiness in one time budget: the port accepts connections, then the HTTP health path answers 2xx,
 * then the ready marker appears in the output. Fails fast when the process exits meanwhile.
 */
import {connect} from 'node:net';
import type {ExitInfo} from './child.js';

export interface ReadinessSpec {
  /** Address the port and HTTP checks connect to, from the supervisor's host. */
  address: string;
  /** TCP port that must accept connections. */
  port?: number;
  /** HTTP path on `port` that must answer 2xx. */
  httpPath?: string;
  /** Regex a line of the process's output must match (a ready marker). */
  logLine?: string;
  /** One budget for all steps, from spawn. */
  timeoutMs: number;
}

export class NotReady extends Error {
  constructor(
    message: string,
    readonly reason: 'exited' | 'timeout',
    readonly exit?: ExitInfo,
  ) {
    super(message);
  }
}

export interface ReadinessContext {
  /** Address the port and HTTP checks connect to. */
  address: string;
  exited: Promise<ExitInfo>;
  /** Resolves when a line matching `re` has been (or is later) printed. */
  lineSeen(re: RegExp): Promise<void>;
  pollMs?: number;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({host, port});
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, {signal: AbortSignal.timeout(1000)});
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

export async function waitReady(spec: ReadinessSpec, ctx: ReadinessContext): Promise<void> {
  const pollMs = ctx.pollMs ?? 50;
  const deadline = Date.now() + spec.timeoutMs;
  let step = 'start';
  let exit: ExitInfo | undefined;
  void ctx.exited.then((e) => (exit = e));
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const check = () => {
    if (exit) throw new NotReady(`exited before it was ready (${step})`, 'exited', exit);
    if (Date.now() > deadline) throw new NotReady(`not ready after ${spec.timeoutMs} ms (waiting for ${step})`, 'timeout');
  };
  const poll = async (what: string, probe: () => Promise<boolean>) => {
    step = what;
    for (;;) {
      check();
      if (await probe()) return;
      await sleep(pollMs);
    }
  };

  if (spec.port !== undefined) {
    const port = spec.port;
    await poll(`port ${port}`, () => portOpen(ctx.address, port));
    if (spec.httpPath) {
      const url = `http://${ctx.address.includes(':') ? `[${ctx.address}]` : ctx.address}:${port}${spec.httpPath}`;
      await poll(`GET ${url}`, () => httpOk(url));
    }
  }
  if (spec.logLine) {
    let seen = false;
    void ctx.lineSeen(new RegExp(spec.logLine)).then(() => (seen = true));
    await poll(`output line /${spec.logLine}/`, async () => seen);
  }
  check();
}
