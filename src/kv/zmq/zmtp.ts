/**
 * A small ZMTP 3.x client socket over node:net: connect (never bind: engines bind), NULL security,
 * SUB (topic-prefix subscriptions) or DEALER (multipart send and receive). The zeromq npm addon
 * cannot load inside the Bun binary (uv_poll_init_socket is missing there), so we speak the wire
 * protocol ourselves; tests check it against real libzmq.
 *
 * A lost connection is retried with exponential backoff (100 ms doubling to 5 s by default) until
 * `close()`. SUB subscriptions are resent on every connection; DEALER messages sent while
 * disconnected wait for the next connection, as libzmq's DEALER does.
 */
import {type Socket, connect} from 'node:net';
import {COMPATIBLE_PEERS, ZmtpDecoder, ZmtpProtocolError, type ZmtpSocketType, encodeCommand, encodeGreeting, encodeMessage, encodeReady, encodeSubscribe, parseProperties} from './zmtp-codec.js';

export type ZmtpAddress = {host: string; port: number} | {path: string};

/** `tcp://host:port` (`*` means this machine, as in an engine's bind address) or `ipc:///path`. */
export function parseEndpoint(endpoint: string): ZmtpAddress {
  const ipc = /^ipc:\/\/(.+)$/.exec(endpoint);
  if (ipc) return {path: ipc[1]!};
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d+)$/.exec(endpoint);
  if (!m || Number(m[2]) > 65535) throw new Error(`"${endpoint}" is not a tcp://host:port or ipc:///path endpoint`);
  const host = m[1] === '*' ? '127.0.0.1' : m[1]!.replace(/^\[|\]$/g, '');
  return {host, port: Number(m[2])};
}

export interface ZmtpSocketOptions {
  type: ZmtpSocketType;
  endpoint: string;
  /** SUB: topic prefixes ('' = everything). */
  subscribe?: readonly string[];
  onMessage: (frames: Buffer[]) => void;
  /** The handshake finished (a new connection: the peer may have restarted). */
  onConnect?: () => void;
  /** A connection ended or failed; `reason` says why. Reconnection follows unless closed. */
  onDisconnect?: (reason: string) => void;
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** A peer that accepts TCP but never completes the ZMTP handshake is dropped after this. */
  handshakeTimeoutMs?: number;
  maxFrameBytes?: number;
}

/**
 * Why a connection ended before READY. libzmq hangs up without a word (often before its greeting
 * reaches us) when socket types clash, so that is the likely cause unless the peer sent non-ZMTP bytes.
 */
function handshakeEnded(type: ZmtpSocketType, head: Buffer): string {
  if (head.length && (head[0] !== 0xff || (head.length >= 10 && head[9] !== 0x7f))) return 'the peer is not a ZMTP socket';
  return `the peer closed the connection during the ZMTP handshake, as libzmq does when socket types do not match: a ${type} needs a ${COMPATIBLE_PEERS[type].join(' or ')} endpoint`;
}

export class ZmtpSocket {
  private socket?: Socket;
  private ready = false;
  private closed = false;
  private pending: Buffer[] = [];
  private retry?: NodeJS.Timeout;
  private backoff: number;
  private closing?: Promise<void>;

  constructor(private readonly opts: ZmtpSocketOptions) {
    parseEndpoint(opts.endpoint); // fail now on a bad endpoint, not on every retry
    this.backoff = opts.reconnectMs ?? 100;
    this.open();
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Sends a multipart message; while disconnected it waits for the next connection. */
  send(frames: readonly (Uint8Array | string)[]): void {
    if (this.closed) return;
    const m = encodeMessage(frames);
    if (this.ready) this.socket!.write(m);
    else this.pending.push(m);
  }

  /** Stops reconnecting and closes the connection; resolves once the TCP socket is closed. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.ready = false;
    clearTimeout(this.retry);
    const s = this.socket;
    this.closing = !s || s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve()));
    s?.destroy();
    return this.closing;
  }

  private open(): void {
    const s = connect(parseEndpoint(this.opts.endpoint));
    this.socket = s;
    const decoder = new ZmtpDecoder(this.opts.maxFrameBytes);
    let failure: string | undefined; // a protocol failure we detected
    let ioError: NodeJS.ErrnoException | undefined;
    let head = Buffer.alloc(0); // the peer's first bytes, to tell "not ZMTP" from "ZMTP said no"
    const fail = (why: string) => {
      failure ??= why;
      s.destroy();
    };
    s.setNoDelay(true);
    s.setTimeout(this.opts.handshakeTimeoutMs ?? 5000, () => fail('no ZMTP handshake from the peer in time'));
    s.on('connect', () => s.write(Buffer.concat([encodeGreeting(), encodeReady(this.opts.type)])));
    s.on('data', (chunk: Buffer) => {
      if (head.length < 10) head = Buffer.concat([head, chunk.subarray(0, 10 - head.length)]);
      try {
        for (const item of decoder.push(chunk)) {
          if (s.destroyed) return;
          if (item.kind === 'greeting') {
            if (item.greeting.mechanism !== 'NULL') throw new ZmtpProtocolError(`the peer wants ${item.greeting.mechanism} security; only NULL is supported`);
          } else if (item.kind === 'command') this.onCommand(s, item.name, item.data);
          else if (this.ready) this.opts.onMessage(item.frames);
        }
      } catch (e) {
        fail(e instanceof ZmtpProtocolError ? e.message : `a message handler threw: ${(e as Error).message}`);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      ioError ??= e;
    });
    s.on('close', () => {
      const wasReady = this.ready;
      this.ready = false;
      if (this.closed) return;
      const hungUp = !ioError || ioError.code === 'ECONNRESET' || ioError.code === 'EPIPE';
      this.opts.onDisconnect?.(failure ?? (wasReady ? (ioError?.message ?? 'the peer closed the connection') : hungUp ? handshakeEnded(this.opts.type, head) : ioError!.message));
      this.retry = setTimeout(() => this.open(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, this.opts.maxReconnectMs ?? 5000);
    });
  }

  private onCommand(s: Socket, name: string, data: Buffer): void {
    if (name === 'READY') {
      const peer = parseProperties(data).get('socket-type')?.toString('ascii') ?? '?';
      if (!COMPATIBLE_PEERS[this.opts.type].includes(peer)) throw new ZmtpProtocolError(`${this.opts.endpoint} is a ${peer} socket; a ${this.opts.type} needs one of ${COMPATIBLE_PEERS[this.opts.type].join(', ')}`);
      this.onReady(s);
    } else if (name === 'ERROR') {
      throw new ZmtpProtocolError(`the peer refused the connection: ${data.toString('utf8', 1, 1 + (data[0] ?? 0))}`);
    } else if (name === 'PING') {
      s.write(encodeCommand('PONG', data.subarray(2))); // ZMTP 3.1 heartbeat: echo the context after the TTL
    }
  }

  private onReady(s: Socket): void {
    s.setTimeout(0);
    this.ready = true;
    this.backoff = this.opts.reconnectMs ?? 100;
    for (const topic of this.opts.subscribe ?? []) s.write(encodeSubscribe(topic));
    for (const m of this.pending.splice(0)) s.write(m);
    this.opts.onConnect?.();
  }
}
