/**
 * Reads a GGUF file's header: metadata and tensor infos, never the tensor data. A file of many
 * gigabytes is read in small chunks from its start, so `dynamo models` and sizing stay instant.
 */
import {closeSync, fstatSync, openSync, readSync, statSync} from 'node:fs';
import {DEFAULT_ALIGNMENT, GGML_TYPES, GGUF_MAGIC, type MetaValue, SCALAR_NAMES, type TensorInfo, type TensorType, ValueType, alignUp} from './format.js';

export interface GgufHeader {
  version: number;
  metadata: Map<string, MetaValue>;
  tensors: TensorInfo[];
  alignment: number;
  /** Absolute offset of the data section in the file. */
  dataOffset: number;
}

export class GgufError extends Error {}

const TYPE_NAMES = Object.fromEntries(Object.entries(GGML_TYPES).map(([name, t]) => [t.id, name])) as Record<number, TensorType>;
const MAX_STRING = 64 << 20; // a chat template or merge list entry is never this long: the file is not GGUF

/** A forward-only cursor over a file descriptor (or a buffer), refilling a window as it goes. */
class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0; // file offset of buf[0]
  private at = 0; // index in buf
  /** Bytes in the file (or buffer): no count may promise more than are left. */
  private readonly size: number;

  constructor(
    private readonly fd: number | null,
    initial?: Buffer,
  ) {
    if (initial) this.buf = initial;
    this.size = fd === null ? this.buf.length : fstatSync(fd).size;
  }

  /** Throws when `n` items of at least `bytes` each cannot fit in what is left. */
  fits(n: number, bytes: number, what: string): void {
    if (n * bytes > this.size - this.offset) throw new GgufError(`${what} of ${n} does not fit in the file: not a GGUF file, or a damaged one`);
  }

  get offset(): number {
    return this.start + this.at;
  }

  private need(n: number): void {
    if (this.at + n <= this.buf.length) return;
    if (this.fd === null) throw new GgufError('the file ends inside its header');
    const keep = this.buf.subarray(this.at);
    const chunk = Buffer.alloc(Math.max(n, 1 << 20));
    const got = readSync(this.fd, chunk, 0, chunk.length, this.offset + keep.length);
    this.start = this.offset;
    this.buf = Buffer.concat([keep, chunk.subarray(0, got)]);
    this.at = 0;
    if (this.buf.length < n) throw new GgufError('the file ends inside its header');
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.at);
    this.at += 8;
    return v;
  }

  /** A u64 that must be a safe integer (counts, lengths, dims, offsets). */
  count(what: string): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(`${what} is ${v}: not a GGUF file, or a damaged one`);
    return Number(v);
  }

  string(): string {
    const length = this.count('a string length');
    this.fits(length, 1, 'a string');
    if (length > MAX_STRING) throw new GgufError(`a string of ${length} bytes: not a GGUF file, or a damaged one`);
    this.need(length);
    const s = this.buf.toString('utf8', this.at, this.at + length);
    this.at += length;
    return s;
  }

  scalar(type: ValueType): number | bigint | boolean | string {
    if (type === ValueType.STRING) return this.string();
    const width = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8][type];
    if (!width) throw new GgufError(`unknown metadata value type ${type}`);
    this.need(width);
    const b = this.buf;
    const i = this.at;
    this.at += width;
    switch (type) {
      case ValueType.U8:
        return b.readUInt8(i);
      case ValueType.I8:
        return b.readInt8(i);
      case ValueType.U16:
        return b.readUInt16LE(i);
      case ValueType.I16:
        return b.readInt16LE(i);
      case ValueType.U32:
        return b.readUInt32LE(i);
      case ValueType.I32:
        return b.readInt32LE(i);
      case ValueType.F32:
        return b.readFloatLE(i);
      case ValueType.BOOL:
        return b.readUInt8(i) !== 0;
      case ValueType.U64:
        return b.readBigUInt64LE(i);
      case ValueType.I64:
        return b.readBigInt64LE(i);
      default:
        return b.readDoubleLE(i);
    }
  }

  value(type: ValueType): MetaValue {
    if (type !== ValueType.ARRAY) {
      const name = SCALAR_NAMES[type];
      if (!name) throw new GgufError(`unknown metadata value type ${type}`);
      return {type: name, value: this.scalar(type)} as MetaValue;
    }
    const of = this.u32();
    const count = this.count('an array length');
    const name = SCALAR_NAMES[of];
    if (!name || of === ValueType.ARRAY) throw new GgufError(`an array of unsupported type ${of}`);
    this.fits(count, of === ValueType.STRING ? 8 : Math.max(1, [1, 1, 2, 2, 4, 4, 4, 1][of] ?? 8), 'an array');
    const value: (number | bigint | boolean | string)[] = new Array(count);
    for (let i = 0; i < count; i++) value[i] = this.scalar(of);
    return {type: 'array', of: name, value};
  }
}

function parse(cursor: Cursor, what: string): GgufHeader {
  if (cursor.u32() !== GGUF_MAGIC) throw new GgufError(`${what} is not a GGUF file (it does not start with "GGUF")`);
  const version = cursor.u32();
  if (version < 2 || version > 3) throw new GgufError(`${what} is GGUF version ${version}; this build reads versions 2 and 3`);
  const tensorCount = cursor.count('the tensor count');
  const metaCount = cursor.count('the metadata count');
  cursor.fits(tensorCount + metaCount, 8, 'a header');
  const metadata = new Map<string, MetaValue>();
  for (let i = 0; i < metaCount; i++) {
    const key = cursor.string();
    metadata.set(key, cursor.value(cursor.u32()));
  }
  const tensors: TensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string();
    const dims = cursor.u32();
    if (dims > 8) throw new GgufError(`tensor ${name} has ${dims} dimensions: not a GGUF file, or a damaged one`);
    const shape = Array.from({length: dims}, () => cursor.count('a tensor dimension'));
    const typeId = cursor.u32();
    tensors.push({name, shape, type: TYPE_NAMES[typeId] ?? typeId, offset: cursor.count('a tensor offset')});
  }
  const alignmentValue = metadata.get('general.alignment');
  const alignment = alignmentValue?.type === 'u32' && alignmentValue.value > 0 ? alignmentValue.value : DEFAULT_ALIGNMENT;
  return {version, metadata, tensors, alignment, dataOffset: alignUp(cursor.offset, alignment)};
}

/** The last header read, by file: a process resolves the model and builds its tokenizer from the same header. */
let last: {key: string; header: GgufHeader} | undefined;

export function readGgufHeader(path: string): GgufHeader {
  let key: string | undefined;
  try {
    const st = statSync(path);
    key = `${path}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    // openSync below says why
  }
  if (key && last?.key === key) return last.header;
  const header = readHeaderOf(path);
  if (key) last = {key, header};
  return header;
}

function readHeaderOf(path: string): GgufHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new GgufError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parse(new Cursor(fd), path);
  } finally {
    closeSync(fd);
  }
}

export function parseGgufHeader(bytes: Buffer, what = 'the buffer'): GgufHeader {
  return parse(new Cursor(null, bytes), what);
}

/** A metadata value as a plain JS value (arrays as arrays), or undefined. */
export function meta(header: GgufHeader, key: string): number | bigint | boolean | string | (number | bigint | boolean | string)[] | undefined {
  return header.metadata.get(key)?.value;
}

/** A numeric metadata value as a number, or undefined when absent or not numeric. */
export function metaNumber(header: GgufHeader, key: string): number | undefined {
  const v = header.metadata.get(key);
  if (!v || v.type === 'array' || v.type === 'string' || v.type === 'bool') return undefined;
  return Number(v.value);
}

export function metaString(header: GgufHeader, key: string): string | undefined {
  const v = header.metadata.get(key);
  return v?.type === 'string' ? v.value : undefined;
}
