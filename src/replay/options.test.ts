import {Parser} from '@oclif/core';
import {describe, expect, it} from 'vitest';
import Replay from '../commands/replay.js';
import {UserError} from '../shared/errors.js';
import {replayOptions, replayRouters, replaySlos} from './options.js';
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

  it('without --disagg or --goodput nothing is disaggregated or judged', async () => {
    const {flags} = await parse([]);
    const s = replayOptions('trace.jsonl', flags);
    expect(s.disagg).toBeUndefined();
    expect(s.goodput).toBeUndefined();
  });

  it('pairs --prefill-workers and --decode-workers into splits, with the transfer model’s defaults', async () => {
    const {flags} = await parse(['--disagg', '--prefill-workers', '2,4', '--decode-workers', '6,4']);
    expect(replayOptions('trace.jsonl', flags).disagg).toEqual({
      splits: [
        {prefill: 2, decode: 6},
        {prefill: 4, decode: 4},
      ],
      linkGbps: 450,
      transferLatencyMs: 0.05,
      maxLocalPrefillTokens: 1000,
    });
    const other = await parse(['--disagg', '--prefill-workers', '1', '--decode-workers', '3', '--link-gbps', '25', '--transfer-latency-ms', '0.5', '--max-local-prefill-length', '0']);
    expect(replayOptions('trace.jsonl', other.flags).disagg).toEqual({splits: [{prefill: 1, decode: 3}], linkGbps: 25, transferLatencyMs: 0.5, maxLocalPrefillTokens: 0});
  });

  it('refuses splits that do not pair up, or split flags without --disagg, saying what to write', async () => {
    const cases: [string[], string][] = [
      [['--disagg', '--prefill-workers', '2,4', '--decode-workers', '6'], '--prefill-workers lists 2 splits (2,4) but --decode-workers lists 1 (6)'],
      [['--disagg', '--prefill-workers', '2'], '--disagg needs --prefill-workers and --decode-workers'],
      [['--disagg'], '--disagg needs --prefill-workers and --decode-workers'],
      [['--prefill-workers', '2', '--decode-workers', '6'], '--prefill-workers needs --disagg'],
      [['--decode-workers', '6'], '--decode-workers needs --disagg'],
      [['--disagg', '--prefill-workers', '0,2', '--decode-workers', '6,6'], '--prefill-workers: expected whole numbers ≥ 1, got "0,2"'],
      [['--disagg', '--prefill-workers', '2', '--decode-workers', '1.5'], '--decode-workers: expected whole numbers ≥ 1, got "1.5"'],
      [['--disagg', '--prefill-workers', '2', '--decode-workers', '6', '--link-gbps', '0'], '--link-gbps must be a number > 0, got "0"'],
      [['--disagg', '--prefill-workers', '1000', '--decode-workers', '100'], 'split 1000P+100D has more than 1024 workers'],
    ];
    for (const [argv, message] of cases) {
      const {flags} = await parse(argv);
      const e = thrown(() => replayOptions('trace.jsonl', flags));
      expect(e).toBeInstanceOf(UserError);
      expect(e.message).toBe(message);
    }
    const {flags} = await parse(['--disagg', '--prefill-workers', '2,4', '--decode-workers', '6']);
    expect(thrown(() => replayOptions('trace.jsonl', flags)).hint).toBe('give one decode count per prefill count, in the same order, e.g. --disagg --prefill-workers 2,4 --decode-workers 6,4 (splits 2P+6D and 4P+4D)');
    await expect(parse(['--disagg', '--prefill-workers', 'two', '--decode-workers', '6'])).rejects.toThrow(/--prefill-workers[\s\S]*expected a number or a comma-separated list of numbers, got "two"/);
  });

  it('reads --goodput as bench does, ITL under either name, with a 90 % target by default', async () => {
    const {flags} = await parse(['--goodput', 'ttft:500 itl:50']);
    expect(replayOptions('trace.jsonl', flags).goodput).toEqual({slos: {ttftMs: 500, itlMs: 50}, minFraction: 0.9});
    const other = await parse(['--goodput', 'time_to_first_token:2000,tpot:25,e2e:60000', '--goodput-target', '99']);
    expect(replayOptions('trace.jsonl', other.flags).goodput).toEqual({slos: {ttftMs: 2000, itlMs: 25, e2eMs: 60000}, minFraction: 0.99});
  });

  it('refuses SLOs it cannot judge and targets that are not percentages', async () => {
    expect(thrown(() => replaySlos('ttft:fast')).message).toBe('--goodput: cannot read "ttft:fast"');
    expect(thrown(() => replaySlos('ttst:100')).message).toBe('--goodput: replay does not measure the time to second token');
    expect(thrown(() => replaySlos(' ')).message).toBe('--goodput: no SLO given');
    for (const v of ['0', '101']) {
      const {flags} = await parse(['--goodput', 'ttft:500', '--goodput-target', v]);
      expect(thrown(() => replayOptions('trace.jsonl', flags)).message).toBe(`--goodput-target must be a percentage in (0, 100], got "${v}"`);
    }
  });
});
