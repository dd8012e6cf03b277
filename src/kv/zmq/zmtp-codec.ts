/**
 * ZMTP 3.x framing (RFC 23/ZMTP 3.0, 37/ZMTP 3.1) as pure functions: what goes on the wire and an
 * incremental decoder of what comes back. No sockets here, so every byte rule is testable alone.
 *
 * Wire: each side sends a 64-byte greeting (signature ff 00…00 7f, version, mechanism, as-server,
 * filler), then frames: a flags byte (bit 0 MORE, bit 1 LONG, bit 2 COMMAND), a size (1 byte, or
 * 8 bytes big-endian when LONG) and the body. Commands are single frames whose body is a
 * length-prefixed name and data; READY's data is a list of properties (name, u32 BE size, value).
 */

export const GREETING_SIZE = 64;
const FLAG_MORE = 1;
const FLAG_LONG = 2;
const FLAG_COMMAND = 4;

/** The peer broke the protocol (or is not a ZMTP peer at all): the connection must be dropped. */
export class ZmtpProtocolError extends Error {}

export interface Greeting {
  major: number;
  minor: number;
  mechanism: string;
  asServer: boolean;
}

/**
 * Our greeting: version 3.`minor`, NULL security, as-server 0 (we only ever connect).
 * 3.0 by default: libzmq then takes subscriptions as messages (first byte 1), the form every
 * libzmq version accepts.
 */
export function encodeGreeting(minor = 0): Buffer {
  const g = Buffer.alloc(GREETING_SIZE);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = minor;
  g.write('NULL', 12, 'ascii'); // mechanism: 20 bytes, zero padded
  return g; // as-server (byte 32) and the 31-byte filler stay zero
}

export function parseGreeting(g: Uint8Array): Greeting {
  if (g[0] !== 0xff || g[9] !== 0x7f) throw new ZmtpProtocolError('the peer is not a ZMTP socket (bad greeting signature)');
  const major = g[10]!;
  if (major < 3) throw new ZmtpProtocolError(`the peer speaks ZMTP ${major}.x; 3.0 or newer is needed (libzmq 4.x)`);
  const mech = Buffer.from(g.subarray(12, 32)).toString('ascii');
  return {major, minor: g[11]!, mechanism: mech.replace(/\0+$/, ''), asServer: g[32] === 1};
}

export function encodeFrame(body: Uint8Array, more = false, command = false): Buffer {
  const long = body.length > 255;
  const head = Buffer.alloc(long ? 9 : 2);
  head[0] = (more ? FLAG_MORE : 0) | (long ? FLAG_LONG : 0) | (command ? FLAG_COMMAND : 0);
  if (long) head.writeBigUInt64BE(BigInt(body.length), 1);
  else head[1] = body.length;
  return Buffer.concat([head, body]);
}

/** A multipart message: MORE on every frame but the last. */
export function encodeMessage(frames: readonly (Uint8Array | string)[]): Buffer {
  return Buffer.concat(frames.map((f, i) => encodeFrame(typeof f === 'string' ? Buffer.from(f) : f, i < frames.length - 1)));
}

export function encodeCommand(name: string, data: Uint8Array = Buffer.alloc(0)): Buffer {
  if (name.length > 255) throw new RangeError('a ZMTP command name is at most 255 bytes');
  return encodeFrame(Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'ascii'), data]), false, true);
}

export function encodeProperties(props: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(props)) {
    const v = Buffer.from(value);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(v.length);
    parts.push(Buffer.from([name.length]), Buffer.from(name, 'ascii'), size, v);
  }
  return Buffer.concat(parts);
}

/** Property names are case-insensitive (RFC 23), so keys come back lower-cased. */
export function parseProperties(data: Uint8Array): Map<string, Buffer> {
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < b.length) {
    const n = b[off]!;
    if (off + 1 + n + 4 > b.length) throw new ZmtpProtocolError('a truncated property in a ZMTP command');
    const name = b.toString('ascii', off + 1, off + 1 + n).toLowerCase();
    const size = b.readUInt32BE(off + 1 + n);
    const start = off + 1 + n + 4;
    if (start + size > b.length) throw new ZmtpProtocolError('a truncated property value in a ZMTP command');
    out.set(name, Buffer.from(b.subarray(start, start + size)));
    off = start + size;
  }
  return out;
}

export type ZmtpSocketType = 'SUB' | 'DEALER';

/** READY with our socket type; DEALER also names its (empty) identity, as libzmq's DEALER does. */
export function encodeReady(type: ZmtpSocketType): Buffer {
  return encodeCommand('READY', encodeProperties(type === 'DEALER' ? {'Socket-Type': type, Identity: ''} : {'Socket-Type': type}));
}

/** A ZMTP 3.0 subscription: a one-frame message, byte 1 then the topic prefix. */
export function encodeSubscribe(topic: string): Buffer {
  return encodeFrame(Buffer.concat([Buffer.from([1]), Buffer.from(topic)]));
}

/** Peer types each of ours may talk to (RFC 23's compatibility table). */
export const COMPATIBLE_PEERS: Readonly<Record<ZmtpSocketType, readonly string[]>> = {
  SUB: ['PUB', 'XPUB'],
  DEALER: ['DEALER', 'ROUTER', 'REP'],
};

export type ZmtpItem = {kind: 'greeting'; greeting: Greeting} | {kind: 'command'; name: string; data: Buffer} | {kind: 'message'; frames: Buffer[]};

/**
 * Incremental decoder of the peer's byte stream. Chunks may split a frame anywhere or carry many;
 * bytes are only joined once enough have arrived for the next step, so a large frame arriving in
 * many chunks costs one copy, not one per chunk.
 */
export class ZmtpDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  /** Bytes needed before parsing can make progress. */
  private need = GREETING_SIZE;
  private greeted = false;
  private parts: Buffer[] = [];

  /** `maxFrameBytes` bounds what a broken or hostile peer can make us buffer. */
  constructor(private readonly maxFrameBytes = 64 * 1024 * 1024) {}

  push(chunk: Uint8Array): ZmtpItem[] {
    this.waiting.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.waitingBytes += chunk.length;
    if (this.buf.length + this.waitingBytes < this.need) return [];
    this.buf = Buffer.concat([this.buf, ...this.waiting]);
    this.waiting = [];
    this.waitingBytes = 0;
    const out: ZmtpItem[] = [];
    let off = 0;
    if (!this.greeted) {
      out.push({kind: 'greeting', greeting: parseGreeting(this.buf.subarray(0, GREETING_SIZE))});
      this.greeted = true;
      off = GREETING_SIZE;
    }
    for (;;) {
      const left = this.buf.length - off;
      if (left < 2) {
        this.need = 2;
        break;
      }
      const flags = this.buf[off]!;
      const headLen = flags & FLAG_LONG ? 9 : 2;
      if (left < headLen) {
        this.need = headLen;
        break;
      }
      const size = flags & FLAG_LONG ? this.buf.readBigUInt64BE(off + 1) : BigInt(this.buf[off + 1]!);
      if (size > BigInt(this.maxFrameBytes)) throw new ZmtpProtocolError(`a ZMTP frame of ${size} bytes is over the ${this.maxFrameBytes}-byte limit`);
      if (left < headLen + Number(size)) {
        this.need = headLen + Number(size);
        break;
      }
      // A copy, so items never pin (or alias) the caller's chunks.
      const body = Buffer.from(this.buf.subarray(off + headLen, off + headLen + Number(size)));
      off += headLen + Number(size);
      if (flags & FLAG_COMMAND) {
        const n = body[0] ?? 0;
        if (1 + n > body.length) throw new ZmtpProtocolError('a ZMTP command with a truncated name');
        out.push({kind: 'command', name: body.toString('ascii', 1, 1 + n), data: body.subarray(1 + n)});
        continue;
      }
      this.parts.push(body);
      if (!(flags & FLAG_MORE)) {
        out.push({kind: 'message', frames: this.parts});
        this.parts = [];
      }
    }
    this.buf = this.buf.subarray(off);
    return out;
  }
}
