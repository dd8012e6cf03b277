/**
 * Wire format of the request plane: each frame is a big-endian u32 length followed by one msgpack
 * value. Frames carry a stream id so many requests share one TCP connection.
 *
 * client → worker: {t:'hello', token} first when the worker has a token, then
 *                  {t:'req', id, body} | {t:'cancel', id} | {t:'credit', id, n}
 * worker → client: {t:'data', id, body} | {t:'end', id} | {t:'error', id, error:{kind, message}}
 *
 * Backpressure is per stream: a worker may send `credit` data frames, and the client grants more as
 * its consumer reads (so one slow HTTP client never stalls the other streams on the connection).
 */
import {Decoder, Encoder, ExtensionCodec} from '@msgpack/msgpack';

export type ClientFrame = {t: 'hello'; token: string} | {t: 'req'; id: number; body: unknown} | {t: 'cancel'; id: number} | {t: 'credit'; id: number; n: number};
export type ServerFrame =
  | {t: 'data'; id: number; body: unknown}
  | {t: 'end'; id: number}
  | {t: 'error'; id: number; error: {kind: string; message: string}};

/** Data frames a worker may send on a stream before the client grants more. */
export const INITIAL_CREDIT = 256;
/** Largest frame accepted; a bigger length prefix means a broken or hostile peer. */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

/**
 * Long arrays of 32-bit unsigned integers (a prompt's token ids) travel as one msgpack extension of
 * little-endian words rather than one msgpack int each: encoding 1,000 ids becomes a copy, not a
 * thousand typed writes, and they decode back to the same plain array. Shorter or other arrays are
 * ordinary msgpack.
 */
const UINT32_ARRAY = 0x11;
const PACK_FROM = 32;

function packUint32s(value: unknown): Uint8Array | null {
  if (!Array.isArray(value) || value.length < PACK_FROM) return null;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== 'number' || v >>> 0 !== v) return null;
  }
  // The views share an ArrayBuffer made first: asking a typed array made on its own for its
  // `.buffer` makes JSC build one for it, which cost more than the copy.
  const buffer = new ArrayBuffer(value.length * 4);
  new Uint32Array(buffer).set(value as number[]);
  // Little-endian on the wire, whatever the host (every supported host is little-endian: a view suffices).
  return new Uint8Array(buffer);
}

function unpackUint32s(data: Uint8Array): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Array<number>(data.byteLength >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

const codec = new ExtensionCodec();
codec.register({type: UINT32_ARRAY, encode: packUint32s, decode: unpackUint32s});

const encoder = new Encoder({ignoreUndefined: true, extensionCodec: codec});

export function encodeFrame(frame: ClientFrame | ServerFrame): Buffer {
  // A view of the encoder's own buffer, copied once into the frame (encode() would copy it first).
  const body = encoder.encodeSharedRef(frame);
  const out = Buffer.allocUnsafe(4 + body.byteLength);
  out.writeUInt32BE(body.byteLength, 0);
  out.set(body, 4);
  return out;
}

/** Incremental decoder: feed socket chunks, get whole frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly decoder = new Decoder({extensionCodec: codec});

  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: unknown[] = [];
    let off = 0;
    while (this.buf.length - off >= 4) {
      const len = this.buf.readUInt32BE(off);
      if (len > MAX_FRAME_BYTES) throw new Error(`frame of ${len} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
      if (this.buf.length - off - 4 < len) break;
      frames.push(this.decoder.decode(this.buf.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return frames;
  }
}
