import {describe, expect, it} from 'vitest';
import {parseProbe, shipDecision} from './ship.js';

const local = {arch: 'x64', bytes: 100 * 1024 * 1024};

describe('shipping the binary: what the host said, and what to do', () => {
  it('reads the probe (uname -m, free KiB, present or missing), and nothing else', () => {
    expect(parseProbe('x86_64\n52428800\nmissing\n')).toEqual({machine: 'x86_64', freeKib: 52428800, present: false});
    expect(parseProbe('aarch64\n1000\npresent')).toEqual({machine: 'aarch64', freeKib: 1000, present: true});
    expect(parseProbe('bash: uname: command not found\n')).toBeUndefined();
  });

  it('keeps a build that is there, copies one that is not', () => {
    expect(shipDecision('gpu1', {machine: 'x86_64', freeKib: 1, present: true}, local)).toEqual({action: 'keep'});
    expect(shipDecision('gpu1', {machine: 'amd64', freeKib: 50 * 1024 * 1024, present: false}, local)).toEqual({action: 'copy'});
  });

  it('refuses another architecture, or too little disk, naming the host and the fix', () => {
    const arm = shipDecision('gpu2', {machine: 'aarch64', freeKib: 50 * 1024 * 1024, present: false}, local);
    expect(arm.action === 'refuse' && [arm.error.message, arm.error.hint]).toEqual([
      'host gpu2 is aarch64; this dynamo binary is built for x86_64',
      'build dynamo for aarch64, put it on gpu2 and set hosts.gpu2.dynamoPath to it',
    ]);
    const full = shipDecision('gpu1', {machine: 'x86_64', freeKib: 50 * 1024, present: false}, local);
    expect(full.action === 'refuse' && full.error.message).toBe('host gpu1 has 50 MiB free in its home; the dynamo binary needs 110 MiB');
  });
});
