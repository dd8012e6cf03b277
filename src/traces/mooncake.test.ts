import {describe, expect, it} from 'vitest';
import {parseMooncakeTrace} from './mooncake.js';

describe('parseMooncakeTrace', () => {
  it('reads Mooncake lines and Dynamo’s alternative names, in arrival order', () => {
    const text = [
      '{"timestamp": 5, "input_length": 600, "output_length": 3, "hash_ids": [0, 1]}',
      '',
      '{"created_time": 0, "input_tokens": 10, "output_tokens": 0, "hash_ids": [7]}',
    ].join('\n');
    expect(parseMooncakeTrace(text, 't.jsonl', 512)).toEqual([
      {arrivalMs: 0, inputLength: 10, outputLength: 1, hashIds: [7]},
      {arrivalMs: 5, inputLength: 600, outputLength: 3, hashIds: [0, 1]},
    ]);
  });

  it('names the file and line of a bad record and says what to do', () => {
    expect(() => parseMooncakeTrace('{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": [0]}\nnope', 't.jsonl', 512)).toThrow(/t\.jsonl:2: not a JSON object/);
    expect(() => parseMooncakeTrace('{"timestamp": 0, "input_length": 1025, "output_length": 1, "hash_ids": [0, 1]}', 't.jsonl', 512)).toThrow(/t\.jsonl:1: 2 hash ids cover at most 1024 tokens/);
    expect(() => parseMooncakeTrace('{"timestamp": -1, "input_length": 5, "output_length": 1, "hash_ids": [0]}', 't.jsonl', 512)).toThrow(/"timestamp"/);
    expect(() => parseMooncakeTrace('\n', 't.jsonl', 512)).toThrow(/no requests/);
  });
});
