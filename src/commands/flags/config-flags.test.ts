import {Parser} from '@oclif/core';
import {describe, expect, it} from 'vitest';
import {configFlagValues, configFlags} from './config-flags.js';

const parse = (argv: string[]) => Parser.parse(argv, {flags: configFlags, args: {}, strict: true});

describe('config flags', () => {
  it('--tp (--tensor-parallel-size) sets the tensor parallel size of every worker role', async () => {
    const {flags} = await parse(['--model', 'llama-3.1-70b', '--tp', '4']);
    expect(configFlagValues(flags)).toEqual([
      {flag: '--model', path: ['model'], value: 'llama-3.1-70b'},
      {flag: '--tensor-parallel-size', path: ['workers', 'agg', 'tensorParallelSize'], value: 4},
      {flag: '--tensor-parallel-size', path: ['workers', 'prefill', 'tensorParallelSize'], value: 4},
      {flag: '--tensor-parallel-size', path: ['workers', 'decode', 'tensorParallelSize'], value: 4},
    ]);
    expect((await parse(['--tensor-parallel-size', '2'])).flags['tensor-parallel-size']).toBe(2);
  });

  it('refuses a tensor parallel size out of 1..64', async () => {
    await expect(parse(['--tp', '0'])).rejects.toThrow();
    await expect(parse(['--tp', '65'])).rejects.toThrow();
  });

  it('--hosts places every role; --discovery and --etcd-endpoints set discovery (lists comma-separated)', async () => {
    const {flags} = await parse(['--hosts', 'gpu1, gpu2', '--discovery', 'etcd', '--etcd-endpoints', 'http://10.0.0.10:2379,http://10.0.0.11:2379']);
    expect(configFlagValues(flags)).toEqual([
      {flag: '--hosts', path: ['workers', 'agg', 'hosts'], value: ['gpu1', 'gpu2']},
      {flag: '--hosts', path: ['workers', 'prefill', 'hosts'], value: ['gpu1', 'gpu2']},
      {flag: '--hosts', path: ['workers', 'decode', 'hosts'], value: ['gpu1', 'gpu2']},
      {flag: '--discovery', path: ['discovery', 'backend'], value: 'etcd'},
      {flag: '--etcd-endpoints', path: ['discovery', 'etcdEndpoints'], value: ['http://10.0.0.10:2379', 'http://10.0.0.11:2379']},
    ]);
  });
});
