import {execFileSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {remoteCommand, secretInput, shellQuote, sshArgv} from './ssh.js';

describe('shellQuote', () => {
  it('survives a real shell unchanged, whatever the characters', () => {
    const words = ['plain', 'with space', "it's", '$HOME', '`id`', 'a;b&&c', '*', '', 'new\nline', '"dq"'];
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(words);
  });
});

describe('remoteCommand', () => {
  it('reports the shell pid and execs the program with its environment', () => {
    const cmd = remoteCommand(['/opt/dynamo', 'worker', '--model', 'my model'], {DYN_X: 'a b'});
    expect(cmd).toBe("echo __dynamo_remote_pid $$; exec env 'DYN_X=a b' /opt/dynamo worker --model 'my model'");
    const out = execFileSync('sh', ['-c', remoteCommand(['sh', '-c', 'echo "$DYN_X:$1"', 'x', 'arg $1'], {DYN_X: "it's"})]).toString();
    expect(out).toMatch(/^__dynamo_remote_pid \d+\nit's:arg \$1\n$/);
  });

  it('passes secrets on standard input, never in the command line', () => {
    const env = {DYN_X: 'plain', DYN_REQUEST_PLANE_TOKEN: "t0k'en $x", DYN_FRONTEND_API_KEY: 'sk-1'};
    const cmd = remoteCommand(['sh', '-c', 'echo "$DYN_X|$DYN_REQUEST_PLANE_TOKEN|$DYN_FRONTEND_API_KEY"'], env);
    expect(cmd).not.toContain('t0k');
    expect(cmd).not.toContain('sk-1');
    const out = execFileSync('sh', ['-c', cmd], {input: secretInput(env)}).toString();
    expect(out.split('\n')[1]).toBe("plain|t0k'en $x|sk-1");
    expect(() => secretInput({DYN_FRONTEND_API_KEY: 'a\nb'})).toThrow('DYN_FRONTEND_API_KEY holds a line break');
  });
});

describe('sshArgv', () => {
  it('keeps host key checking on and reuses one connection per host', () => {
    const argv = sshArgv({address: 'gpu1', port: 2222, user: 'ops', identityFile: '/k', dynamoPath: 'dynamo'}, '/tmp/c', 'true');
    expect(argv).toContain('StrictHostKeyChecking=yes');
    expect(argv).toContain('ControlMaster=auto');
    expect(argv.slice(-3)).toEqual(['gpu1', '--', 'true']);
    expect(argv.join(' ')).toContain('-p 2222');
    expect(argv.join(' ')).toContain('-l ops');
  });
});
