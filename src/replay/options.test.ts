import {Parser} from '@oclif/core';
import {describe, expect, it} from 'vitest';
import Replay from '../commands/replay.js';
import {UserError} from '../shared/errors.js';
import {replayOptions, replayRouters} from './options.js';
import {replayNote} from './run.js';

const parse = (argv: string[]) => Parser.parse(['trace.jsonl', ...argv], {flags: Replay.flags, args: Replay.args});

const thrown = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    return e as UserError;
  }
  throw new Error('did not throw');
};

describe('replay options', () => {
  it('the defaults replay on 8 H100 mockers of llama-3.1-8b through the kv router', async () => {
    const {flags} = await parse([]);
    const s = replayOptions('trace.jsonl', flags);
    expect(s).toMatchObject({trace: 'trace.jsonl', routers: ['kv'], workers: 8, speedup: 1, traceBlockSize: 512, gpu: 'h100', gpuMemoryGb: 80, blockSize: 64});
    expect(s).toMatchObject({maxNumSeqs: 256, maxNumBatchedTokens: 8192, overlapWeight: 1, temperature: 0, ttlSecs: 120, seed: 1});
    expect(s.model.name).toBe('llama-3.1-8b');
    expect(s.numGpuBlocks).toBeUndefined();
  });

  it('reads the number flags as numbers', async () => {
    const {flags} = await parse(['--speedup', '2.5', '--overlap-weight', '0.5', '--temperature', '0.1', '--ttl-secs', '30', '--router', 'kv, approx,random']);
    expect(replayOptions('trace.jsonl', flags)).toMatchObject({speedup: 2.5, overlapWeight: 0.5, temperature: 0.1, ttlSecs: 30, routers: ['kv', 'approx', 'random']});
  });

  it('refuses a value that is not a number, or is out of range, naming the flag', async () => {
    await expect(parse(['--speedup', 'fast'])).rejects.toThrow(/Parsing --speedup[\s\S]*expected a number, got "fast"/);
    await expect(parse(['--overlap-weight', '-1'])).rejects.toThrow(/Parsing --overlap-weight[\s\S]*expected a number ≥ 0, got "-1"/);
    await expect(parse(['--ttl-secs', ''])).rejects.toThrow(/--ttl-secs/);
    for (const v of ['0', '-2']) {
      const {flags} = await parse(['--speedup', v]);
      const e = thrown(() => replayOptions('trace.jsonl', flags));
      expect(e).toBeInstanceOf(UserError);
      expect(e.message).toBe(`--speedup must be a number > 0, got "${v}"`);
    }
  });

  it('refuses an unknown router and lists the known ones', () => {
    const e = thrown(() => replayRouters('kv,fastest'));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toBe('unknown router "fastest"');
    expect(e.hint).toBe('use one or more of kv, approx, round-robin, random, comma-separated');
  });

  it('notes a trace block size that is not a multiple of the engine block size', () => {
    expect(replayNote({traceBlockSize: 512, blockSize: 64})).toBeUndefined();
    expect(replayNote({traceBlockSize: 100, blockSize: 64})).toBe('note: --trace-block-size 100 is not a multiple of --block-size 64: every prompt is hashed in full (slower)');
  });
});
