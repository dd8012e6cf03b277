/**
 * Writes a GGUF file (version 3): header, metadata, tensor infos, then each tensor's data aligned.
 * Tensors are given as float values and encoded here as F32, F16 or Q8_0 (ggml's block of 32
 * int8 with one f16 scale), so a test model can be built from seeded weights in any shape.
 */
import {closeSync, openSync, writeSync} from 'node:fs';
import {DEFAULT_ALIGNMENT, GGML_TYPES, GGUF_MAGIC, GGUF_VERSION, type MetaValue, SCALAR_IDS, type TensorType, ValueType, alignUp, tensorBytes} from './format.js';

export interface TensorSource {
  name: string;
  /** ggml order: ne[0] innermost. */
  shape: number[];
  type: TensorType;
  /** Row-major values, ne[0] fastest; length = product of the shape. */
  values: Float32Array;
}

/** Growable little-endian byte sink for the header. */
class Sink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number) {
    this.room(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  u32(v: number) {
    this.room(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number | bigint) {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  string(s: string) {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.room(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  scalar(type: Exclude<MetaValue['type'], 'array'>, v: number | bigint | boolean | string) {
    const b = (n: number, write: (at: number) => void) => {
      this.room(n);
      write(this.length);
      this.length += n;
    };
    switch (type) {
      case 'string':
        return this.string(String(v));
      case 'bool':
        return this.u8(v ? 1 : 0);
      case 'u8':
        return this.u8(Number(v));
      case 'i8':
        return b(1, (at) => this.buf.writeInt8(Number(v), at));
      case 'u16':
        return b(2, (at) => this.buf.writeUInt16LE(Number(v), at));
      case 'i16':
        return b(2, (at) => this.buf.writeInt16LE(Number(v), at));
      case 'u32':
        return this.u32(Number(v));
      case 'i32':
        return b(4, (at) => this.buf.writeInt32LE(Number(v), at));
      case 'f32':
        return b(4, (at) => this.buf.writeFloatLE(Number(v), at));
      case 'f64':
        return b(8, (at) => this.buf.writeDoubleLE(Number(v), at));
      case 'u64':
        return this.u64(BigInt(v as number | bigint));
      case 'i64':
        return b(8, (at) => this.buf.writeBigInt64LE(BigInt(v as number | bigint), at));
    }
  }
  value(v: MetaValue) {
    if (v.type !== 'array') {
      this.u32(SCALAR_IDS[v.type]);
      return this.scalar(v.type, v.value);
    }
    this.u32(ValueType.ARRAY);
    this.u32(SCALAR_IDS[v.of]);
    this.u64(v.value.length);
    for (const item of v.value) this.scalar(v.of, item);
  }
  pad(alignment: number) {
    const to = alignUp(this.length, alignment);
    this.room(to - this.length);
    this.length = to; // the buffer is zero-filled
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a float, rounded to nearest even (as numpy's astype(float16)). */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** The tensor's bytes in its ggml type. */
export function encodeTensor(type: TensorType, values: Float32Array): Buffer {
  switch (type) {
    case 'F32':
      return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    case 'F16': {
      const out = Buffer.alloc(values.length * 2);
      for (let i = 0; i < values.length; i++) out.writeUInt16LE(toHalf(values[i]!), i * 2);
      return out;
    }
    case 'Q8_0': {
      const {blockSize, blockBytes} = GGML_TYPES.Q8_0;
      const blocks = values.length / blockSize;
      const out = Buffer.alloc(blocks * blockBytes);
      for (let b = 0; b < blocks; b++) {
        let amax = 0;
        for (let i = 0; i < blockSize; i++) amax = Math.max(amax, Math.abs(values[b * blockSize + i]!));
        const d = amax / 127;
        const inv = d ? 1 / d : 0;
        out.writeUInt16LE(toHalf(d), b * blockBytes);
        for (let i = 0; i < blockSize; i++) out.writeInt8(Math.round(values[b * blockSize + i]! * inv), b * blockBytes + 2 + i);
      }
      return out;
    }
  }
}

/** Writes the file; returns its size in bytes. */
export function writeGguf(path: string, metadata: Iterable<[string, MetaValue]>, tensors: readonly TensorSource[]): number {
  const entries = [...metadata];
  const alignmentValue = entries.find(([k]) => k === 'general.alignment')?.[1];
  const alignment = alignmentValue?.type === 'u32' ? alignmentValue.value : DEFAULT_ALIGNMENT;
  const header = new Sink();
  header.u32(GGUF_MAGIC);
  header.u32(GGUF_VERSION);
  header.u64(tensors.length);
  header.u64(entries.length);
  for (const [key, value] of entries) {
    header.string(key);
    header.value(value);
  }
  let offset = 0;
  for (const t of tensors) {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (t.values.length !== expected) throw new Error(`tensor ${t.name}: ${t.values.length} values for shape [${t.shape}] (${expected})`);
    header.string(t.name);
    header.u32(t.shape.length);
    for (const d of t.shape) header.u64(d);
    header.u32(GGML_TYPES[t.type].id);
    header.u64(offset);
    offset = alignUp(offset + tensorBytes(t.type, t.shape), alignment);
  }
  header.pad(alignment);
  const fd = openSync(path, 'w');
  try {
    let written = writeSync(fd, header.bytes());
    for (const t of tensors) {
      const data = encodeTensor(t.type, t.values);
      written += writeSync(fd, data);
      const padding = alignUp(data.length, alignment) - data.length;
      if (padding) written += writeSync(fd, Buffer.alloc(padding));
    }
    return written;
  } finally {
    closeSync(fd);
  }
}
