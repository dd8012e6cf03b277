/**
 * GGUF, llama.cpp's model file (version 3), as the spec in ggml's docs/gguf.md lays it out:
 *
 *   magic "GGUF" · u32 version · u64 tensor count · u64 metadata count
 *   metadata:     string key · u32 value type · value            (strings: u64 length + UTF-8)
 *   tensor infos: string name · u32 dims · u64 ne[dims] · u32 ggml type · u64 offset in the data
 *   padding to `general.alignment` (32 unless set) · tensor data, each tensor aligned the same way
 *
 * All little-endian. `ne[0]` is the innermost (contiguous) dimension, as in ggml.
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const DEFAULT_ALIGNMENT = 32;

/** Metadata value types. */
export enum ValueType {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}

/** The ggml tensor types this project writes or sizes (the numbering is ggml's). */
export const GGML_TYPES = {
  F32: {id: 0, blockSize: 1, blockBytes: 4},
  F16: {id: 1, blockSize: 1, blockBytes: 2},
  Q8_0: {id: 8, blockSize: 32, blockBytes: 34},
} as const;
export type TensorType = keyof typeof GGML_TYPES;

/** A metadata value with its GGUF type, so a writer keeps what a reader saw (u32 stays u32). */
export type MetaValue =
  | {type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number}
  | {type: 'u64' | 'i64'; value: bigint}
  | {type: 'bool'; value: boolean}
  | {type: 'string'; value: string}
  | {type: 'array'; of: Exclude<MetaValue['type'], 'array'>; value: (number | bigint | boolean | string)[]};

export const SCALAR_IDS: Record<Exclude<MetaValue['type'], 'array'>, ValueType> = {
  u8: ValueType.U8,
  i8: ValueType.I8,
  u16: ValueType.U16,
  i16: ValueType.I16,
  u32: ValueType.U32,
  i32: ValueType.I32,
  f32: ValueType.F32,
  bool: ValueType.BOOL,
  string: ValueType.STRING,
  u64: ValueType.U64,
  i64: ValueType.I64,
  f64: ValueType.F64,
};

export const SCALAR_NAMES = Object.fromEntries(Object.entries(SCALAR_IDS).map(([name, id]) => [id, name])) as Record<number, Exclude<MetaValue['type'], 'array'>>;

export interface TensorInfo {
  name: string;
  /** ggml order: ne[0] innermost. */
  shape: number[];
  type: TensorType | number;
  /** Offset from the start of the data section. */
  offset: number;
}

/** Bytes a tensor of this type and shape occupies. */
export function tensorBytes(type: TensorType, shape: readonly number[]): number {
  const t = GGML_TYPES[type];
  const elements = shape.reduce((a, b) => a * b, 1);
  if ((shape[0] ?? 1) % t.blockSize !== 0) throw new Error(`${type} needs ne[0] divisible by ${t.blockSize}, got ${shape[0]}`);
  return (elements / t.blockSize) * t.blockBytes;
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
