/**
 * A small ZMTP 3.0 client over node:net (RFC 23), enough to talk to vLLM's and SGLang's ZMQ
 * sockets: connect, NULL security, SUB (subscribe by topic prefix) or DEALER (send and receive
 * multipart messages). The zeromq npm addon cannot load inside the Bun binary, so we speak the
 * wire protocol ourselves; tests check it against real libzmq.
 *
 * Wire: a 64-byte greeting each way, then frames: a flags byte (bit 0 MORE, bit 1 LONG, bit 2
 * COMMAND), a size (1 byte, or 8 bytes big-endian when LONG) and the body. Each side sends a
 * READY command carrying its Socket-Type. We announce version 3.0, so libzmq expects
 * subscriptions as messages whose first byte is 1 followed by the topic prefix.
 */
import {type Socket, connect} from 'node:net';

export type SocketType = 'SUB' | 'DEALER';

export function greeting(): Buffer {
  const g = Buffer.alloc(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3; // major
  g[11] = 0; // minor
  g.write('NULL', 12, 'ascii'); // mechanism, zero padded to 20 bytes
  // as-server (byte 32) = 0, filler zeros
  return g;
}

export function encodeFrame(body: Uint8Array, more: boolean, command = false): Buffer {
  const long = body.length > 255;
  const head = Buffer.alloc(long ? 9 : 2);
  head[0] = (more ? 1 : 0) | (long ? 2 : 0) | (command ? 4 : 0);
  if (long) head.writeBigUInt64BE(BigInt(body.length), 1);
  else head[1] = body.length;
  return Buffer.concat([head, body]);
}

export function encodeMessage(frames: readonly Uint8Array[]): Buffer {
  return Buffer.concat(frames.map((f, i) => encodeFrame(f, i < frames.length - 1)));
}

/** A command: name (length-prefixed) + body; READY's body is properties (name, 4-byte value size, value). */
export function readyCommand(socketType: SocketType): Buffer {
  const prop = (name: string, value: string) => {
    const v = Buffer.from(value);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(v.length);
    return Buffer.concat([Buffer.from([name.length]), Buffer.from(name), size, v]);
  };
  const body = Buffer.concat([Buffer.from([5]), Buffer.from('READY'), prop('Socket-Type', socketType)]);
  return encodeFrame(body, false, true);
}

export type ZmtpEvent = {kind: 'message'; frames: Buffer[]} | {kind: 'command'; name: string; body: Buffer};

/** Incremental parser of the peer's side: greeting, then frames; whole messages and commands out. */
export class ZmtpParser {
  private buf: Buffer = Buffer.alloc(0);
  private greeted = false;
  private parts: Buffer[] = [];

  push(chunk: Buffer): ZmtpEvent[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: ZmtpEvent[] = [];
    let off = 0;
    if (!this.greeted) {
      if (this.buf.length < 64) return out;
      if (this.buf[0] !== 0xff || this.buf[9] !== 0x7f) throw new Error('the peer is not a ZMTP socket (bad greeting)');
      if (this.buf[10]! < 3) throw new Error(`the peer speaks ZMTP ${this.buf[10]}.x; 3.0 or newer is needed`);
      this.greeted = true;
      off = 64;
    }
    for (;;) {
      if (this.buf.length - off < 2) break;
      const flags = this.buf[off]!;
      const long = (flags & 2) !== 0;
      const headLen = long ? 9 : 2;
      if (this.buf.length - off < headLen) break;
      const size = long ? Number(this.buf.readBigUInt64BE(off + 1)) : this.buf[off + 1]!;
      if (this.buf.length - off - headLen < size) break;
      const body = this.buf.subarray(off + headLen, off + headLen + size);
      off += headLen + size;
      if (flags & 4) {
        const n = body[0] ?? 0;
        out.push({kind: 'command', name: body.subarray(1, 1 + n).toString('ascii'), body: body.subarray(1 + n)});
        continue;
      }
      this.parts.push(Buffer.from(body)); // copy: the buffer is reused
      if (!(flags & 1)) {
        out.push({kind: 'message', frames: this.parts});
        this.parts = [];
      }
    }
    this.buf = off >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }
}

export function parseEndpoint(endpoint: string): {host: string; port: number} {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`"${endpoint}" is not a tcp://host:port endpoint`);
  const host = m[1] === '*' ? '127.0.0.1' : m[1]!.replace(/^\[|\]$/g, '');
  return {host, port: Number(m[2])};
}

export interface ZmtpSocketOptions {
  /** SUB: topic prefixes to subscribe to ('' = everything). */
  subscribe?: string[];
  reconnectMs?: number;
  onMessage: (frames: Buffer[]) => void;
  /** A connection is up (READY exchanged): resend state such as subscriptions or requests. */
  onReady?: () => void;
  onError?: (e: Error) => void;
}

/** One outgoing connection; reconnects with backoff until closed. */
export class ZmtpSocket {
  private socket?: Socket;
  private ready = false;
  private closed = false;
  private pending: Buffer[] = [];
  private timer?: NodeJS.Timeout;
  private backoff: number;

  constructor(
    private readonly type: SocketType,
    private readonly endpoint: string,
    private readonly opts: ZmtpSocketOptions,
  ) {
    this.backoff = opts.reconnectMs ?? 100;
    this.open();
  }

  get connected(): boolean {
    return this.ready;
  }

  private open(): void {
    const {host, port} = parseEndpoint(this.endpoint);
    const s = connect({host, port});
    this.socket = s;
    const parser = new ZmtpParser();
    s.setNoDelay(true);
    s.on('connect', () => s.write(Buffer.concat([greeting(), readyCommand(this.type)])));
    s.on('data', (chunk: Buffer) => {
      let events: ZmtpEvent[];
      try {
        events = parser.push(chunk);
      } catch (e) {
        this.opts.onError?.(e as Error);
        s.destroy();
        return;
      }
      for (const ev of events) {
        if (ev.kind === 'command') {
          if (ev.name === 'READY') this.onPeerReady();
          else if (ev.name === 'ERROR') {
            this.opts.onError?.(new Error(`peer refused the connection: ${ev.body.subarray(1).toString()}`));
            s.destroy();
          }
          continue;
        }
        this.opts.onMessage(ev.frames);
      }
    });
    s.on('error', (e) => this.opts.onError?.(e));
    s.on('close', () => {
      this.ready = false;
      if (this.closed) return;
      this.timer = setTimeout(() => this.open(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    });
  }

  private onPeerReady(): void {
    this.ready = true;
    this.backoff = this.opts.reconnectMs ?? 100;
    for (const topic of this.opts.subscribe ?? []) this.socket!.write(encodeFrame(Buffer.concat([Buffer.from([1]), Buffer.from(topic)]), false));
    this.opts.onReady?.();
    for (const m of this.pending.splice(0)) this.socket!.write(m);
  }

  /** Sends a multipart message (queued until the connection is ready). */
  send(frames: readonly Uint8Array[]): void {
    const m = encodeMessage(frames);
    if (this.ready) this.socket!.write(m);
    else this.pending.push(m);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
  }
}
