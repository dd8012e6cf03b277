import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {tempDir} from '../../test/helpers/processes.js';
import type {MetaValue} from './format.js';
import {GgufError, metaNumber, metaString, parseGgufHeader, readGgufHeader} from './read.js';
import {encodeTensor, toHalf, writeGguf} from './write.js';

const META: [string, MetaValue][] = [
  ['general.architecture', {type: 'string', value: 'llama'}],
  ['general.alignment', {type: 'u32', value: 64}],
  ['a.u8', {type: 'u8', value: 200}],
  ['a.i8', {type: 'i8', value: -5}],
  ['a.u16', {type: 'u16', value: 60000}],
  ['a.i16', {type: 'i16', value: -30000}],
  ['a.i32', {type: 'i32', value: -7}],
  ['a.f32', {type: 'f32', value: 0.5}],
  ['a.f64', {type: 'f64', value: 1e-300}],
  ['a.bool', {type: 'bool', value: true}],
  ['a.u64', {type: 'u64', value: 2n ** 63n}],
  ['a.i64', {type: 'i64', value: -(2n ** 40n)}],
  ['a.strings', {type: 'array', of: 'string', value: ['Ġthe', '<｜begin▁of▁sentence｜>', '']}],
  ['a.ints', {type: 'array', of: 'i32', value: [1, 3, 6]}],
];

describe('GGUF', () => {
  it('reads back what it wrote: every metadata type, tensor infos, aligned offsets', () => {
    const path = join(tempDir(), 'm.gguf');
    const tensors = [
      {name: 'token_embd.weight', shape: [64, 3], type: 'Q8_0' as const, values: Float32Array.from({length: 192}, (_, i) => Math.sin(i))},
      {name: 'output_norm.weight', shape: [5], type: 'F32' as const, values: Float32Array.of(1, 2, 3, 4, 5)},
      {name: 'blk.0.attn_q.weight', shape: [4, 2], type: 'F16' as const, values: Float32Array.of(0, 1, -1, 0.5, 65504, -2, 3, 1e-8)},
    ];
    const size = writeGguf(path, META, tensors);
    const header = readGgufHeader(path);
    expect(header.version).toBe(3);
    expect([...header.metadata]).toEqual(META);
    expect(header.alignment).toBe(64);
    expect(header.dataOffset % 64).toBe(0);
    expect(header.tensors.map((t) => [t.name, t.shape, t.type, t.offset])).toEqual([
      ['token_embd.weight', [64, 3], 'Q8_0', 0],
      ['output_norm.weight', [5], 'F32', 256], // 6 blocks × 34 = 204 bytes, aligned to 64
      ['blk.0.attn_q.weight', [4, 2], 'F16', 320],
    ]);
    const file = readFileSync(path);
    expect(file.length).toBe(size);
    expect(file.readFloatLE(header.dataOffset + 256 + 8)).toBe(3);
    expect(file.readUInt16LE(header.dataOffset + 320 + 8)).toBe(0x7bff); // 65504, the largest half
    expect(metaString(header, 'general.architecture')).toBe('llama');
    expect(metaNumber(header, 'a.u64')).toBe(2 ** 63);
  });

  it('encodes halves as numpy does (round to nearest even, subnormals, overflow)', () => {
    expect([1, -2, 0.1, 65504, 65520, 1e-7, 2 ** -24, 2 ** -25, -0].map(toHalf)).toEqual([0x3c00, 0xc000, 0x2e66, 0x7bff, 0x7c00, 0x0002, 0x0001, 0x0000, 0x8000]);
  });

  it('quantizes Q8_0 blocks with one f16 scale each', () => {
    const values = Float32Array.from({length: 32}, (_, i) => (i - 16) / 16);
    const q = encodeTensor('Q8_0', values);
    expect(q.length).toBe(34);
    expect(q.readUInt16LE(0)).toBe(toHalf(1 / 127));
    expect(q.readInt8(2)).toBe(-127);
    expect(q.readInt8(2 + 16)).toBe(0);
  });

  it('refuses what is not GGUF, in words', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.gguf'), 'not a model at all');
    expect(() => readGgufHeader(join(dir, 'x.gguf'))).toThrow(/is not a GGUF file/);
    expect(() => readGgufHeader(join(dir, 'missing.gguf'))).toThrow(/cannot open .*ENOENT/);
    const truncated = readFileSync((() => {
      const p = join(dir, 'ok.gguf');
      writeGguf(p, META, []);
      return p;
    })()).subarray(0, 40);
    expect(() => parseGgufHeader(truncated)).toThrow(GgufError);
    expect(() => parseGgufHeader(truncated)).toThrow(/does not fit in the file: not a GGUF file, or a damaged one/);
    // A damaged count is refused before anything that large is allocated or read.
    const huge = Buffer.alloc(64);
    huge.writeUInt32LE(0x46554747, 0);
    huge.writeUInt32LE(3, 4);
    huge.writeBigUInt64LE(0n, 8); // tensors
    huge.writeBigUInt64LE(1n, 16); // one metadata entry
    huge.writeBigUInt64LE(1n, 24); // key of one byte
    huge.write('k', 32);
    huge.writeUInt32LE(9, 33); // an array
    huge.writeUInt32LE(8, 37); // of strings
    huge.writeBigUInt64LE(2n ** 40n, 41);
    expect(() => parseGgufHeader(huge)).toThrow(/an array of 1099511627776 does not fit in the file/);
  });
});
