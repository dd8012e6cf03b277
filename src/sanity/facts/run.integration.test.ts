import {describe, expect, it} from 'vitest';
import {runCommand} from './run.js';

describe('runCommand', () => {
  it('returns what a program printed and its exit code, non-zero included', async () => {
    expect(await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ok: true, code: 3, stdout: 'out\n', stderr: 'err\n'});
  });

  it('passes arguments as-is, with no shell in between', async () => {
    expect((await runCommand('echo', ['$HOME', '*', 'a;b'])).stdout).toBe('$HOME * a;b\n');
  });

  it('says a missing program is not ok, without throwing', async () => {
    const r = await runCommand('dynamo-no-such-program', ['--version']);
    expect(r).toMatchObject({ok: false, code: null, stdout: ''});
    expect(r.stderr).toContain('ENOENT');
  });

  it('stops a program that outlives its timeout and says it is not ok', async () => {
    const r = await runCommand('sh', ['-c', 'echo started; exec sleep 30'], 100);
    expect(r).toMatchObject({ok: false, code: null});
  });
});
