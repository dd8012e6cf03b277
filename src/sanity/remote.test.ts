import {describe, expect, it} from 'vitest';
import type {SshHost} from '../config/schema.js';
import {UserError} from '../shared/errors.js';
import {shipDecision} from '../supervisor/ship.js';
import type {CommandResult} from './check.js';
import {parseRemoteReport, runRemoteSanity} from './remote.js';
import {buildReport, hostReport} from './report.js';

const gpu1: SshHost = {address: '10.0.0.1', user: 'ops', port: 22, dynamoPath: '/opt/dynamo/bin/dynamo', identityFile: '/keys/id_ed25519'};

/** What the remote `dynamo sanity --json --local` prints: one host, "local", as that machine sees itself. */
const remoteReport = JSON.stringify(
  buildReport(
    [
      hostReport(
        'local',
        [
          {id: 'system.shm', area: 'system', title: 'Shared memory', host: 'local', status: 'pass', finding: '/dev/shm 1 TiB', durationMs: 1.2},
          {id: 'deployment.fit', area: 'deployment', title: 'Model fits the GPUs', host: 'local', status: 'fail', finding: 'does not fit', fix: 'use --tp 2', durationMs: 0.4},
        ],
        'gpu-box-1',
      ),
    ],
    310,
  ),
);

/** An exec that records the argv and answers as given. */
function answering(r: Partial<CommandResult>) {
  const calls: {argv: string[]; timeoutMs: number}[] = [];
  const exec = async (argv: string[], timeoutMs: number): Promise<CommandResult> => {
    calls.push({argv, timeoutMs});
    return {ok: true, code: 0, stdout: '', stderr: '', ...r};
  };
  return {calls, exec};
}

describe('runRemoteSanity', () => {
  it('runs `dynamo sanity --json --local` through the SSH layer, every word quoted, on the shared control socket', async () => {
    const {calls, exec} = answering({stdout: remoteReport});
    await runRemoteSanity('gpu1', gpu1, ['--model', 'llama-3.1-70b', '--tp', '2'], exec, {controlDir: '/tmp/ctl', timeoutMs: 5000});
    const [{argv, timeoutMs}] = calls as [{argv: string[]; timeoutMs: number}];
    expect(timeoutMs).toBe(5000);
    expect(argv[0]).toBe('ssh');
    expect(argv).toEqual(expect.arrayContaining(['BatchMode=yes', 'StrictHostKeyChecking=yes', 'ControlMaster=auto', '-l', 'ops', '-i', '/keys/id_ed25519']));
    expect(argv.find((a) => a.startsWith('ControlPath='))).toMatch(/^ControlPath=\/tmp\/ctl\//);
    expect(argv.slice(-3)).toEqual(['10.0.0.1', '--', 'exec /opt/dynamo/bin/dynamo sanity --json --local --model llama-3.1-70b --tp 2']);
  });

  it('runs it with the host\'s environment (the engine on its PATH)', async () => {
    const {calls, exec} = answering({stdout: remoteReport});
    await runRemoteSanity('gpu1', {...gpu1, env: {PATH: '/opt/vllm/bin:/usr/bin', HF_HOME: '/data/hf'}}, [], exec, {controlDir: '/tmp/ctl'});
    expect(calls[0]!.argv.at(-1)).toBe('exec env PATH=/opt/vllm/bin:/usr/bin HF_HOME=/data/hf /opt/dynamo/bin/dynamo sanity --json --local');
  });

  it("gives back the host's results, named after the host, whatever its exit code", async () => {
    const {exec} = answering({code: 1, stdout: remoteReport});
    const results = await runRemoteSanity('gpu1', gpu1, [], exec, {controlDir: '/tmp/ctl'});
    expect(results.map((r) => [r.host, r.id, r.status, r.fix])).toEqual([
      ['gpu1', 'system.shm', 'pass', undefined],
      ['gpu1', 'deployment.fit', 'fail', 'use --tp 2'],
    ]);
  });

  it('an unreachable host is one failed result saying why and what to check', async () => {
    const {exec} = answering({code: 255, stderr: 'ssh: connect to host 10.0.0.1 port 22: Connection refused\r\n'});
    expect(await runRemoteSanity('gpu1', gpu1, [], exec, {controlDir: '/tmp/ctl'})).toEqual([
      {
        id: 'remote.ssh',
        area: 'system',
        title: 'Reachable over SSH',
        host: 'gpu1',
        status: 'fail',
        finding: 'cannot reach host gpu1 over SSH: ssh: connect to host 10.0.0.1 port 22: Connection refused',
        fix: 'check that `ssh ops@10.0.0.1` logs in without a prompt (a key or agent; the host key in known_hosts), or fix hosts.gpu1',
        durationMs: 0,
      },
    ]);
  });

  it('says when dynamo is missing there, when nothing answers in time, and when what answers is no report', async () => {
    const missing = await runRemoteSanity('gpu1', gpu1, [], answering({code: 127, stderr: 'sh: 1: exec: /opt/dynamo/bin/dynamo: not found'}).exec, {controlDir: '/tmp/ctl'});
    expect(missing[0]).toMatchObject({finding: 'dynamo not found on gpu1 at /opt/dynamo/bin/dynamo', fix: 'copy the dynamo binary there, or set hosts.gpu1.dynamoPath to where it is'});
    const slow = await runRemoteSanity('gpu1', gpu1, [], answering({ok: false, code: null, stderr: 'Command timed out after 30000 milliseconds'}).exec, {controlDir: '/tmp/ctl'});
    expect(slow[0]!.finding).toBe('host gpu1 gave no report within 30 s: Command timed out after 30000 milliseconds');
    const old = await runRemoteSanity('gpu1', gpu1, [], answering({code: 2, stdout: '', stderr: ' ›   Error: command sanity not found'}).exec, {controlDir: '/tmp/ctl'});
    expect(old[0]!.finding).toBe('/opt/dynamo/bin/dynamo sanity on gpu1 printed no report (exit 2): ›   Error: command sanity not found');
  });
});

describe('runRemoteSanity on a host without dynamoPath', () => {
  const bare: SshHost = {...gpu1, dynamoPath: undefined};
  const shipped = '.dynamo/bin/dynamo-0123456789abcdef';

  it('ships this build there first, as `dynamo up` does, and runs that copy', async () => {
    const {calls, exec} = answering({stdout: remoteReport});
    const shipments: [string, string][] = [];
    const results = await runRemoteSanity('gpu1', bare, ['--as-host', 'gpu1'], exec, {
      controlDir: '/tmp/ctl',
      ship: async (host, _ssh, controlDir) => {
        shipments.push([host, controlDir]);
        return shipped;
      },
    });
    expect(shipments).toEqual([['gpu1', '/tmp/ctl']]);
    expect(calls[0]!.argv.at(-1)).toBe(`exec ${shipped} sanity --json --local --as-host gpu1`);
    expect(results.map((r) => r.host)).toEqual(['gpu1', 'gpu1']);
  });

  it('a host the build cannot go to is one failed line with the fix up would give, and nothing runs there', async () => {
    const refused = shipDecision('gpu1', {machine: 'aarch64', freeKib: 1e9, present: false}, {arch: 'x64', bytes: 1e8});
    if (refused.action !== 'refuse') throw new Error('expected a refusal');
    const {calls, exec} = answering({stdout: remoteReport});
    const results = await runRemoteSanity('gpu1', bare, [], exec, {controlDir: '/tmp/ctl', ship: async () => Promise.reject(refused.error)});
    expect(calls).toEqual([]);
    expect(results).toEqual([
      {
        id: 'remote.dynamo',
        area: 'system',
        title: 'This dynamo on the host',
        host: 'gpu1',
        status: 'fail',
        finding: 'host gpu1 is aarch64; this dynamo binary is built for x86_64',
        fix: 'build dynamo for aarch64, put it on gpu1 and set hosts.gpu1.dynamoPath to it',
        durationMs: 0,
      },
    ]);
  });

  it('a host that cannot be reached to ship to is the SSH failure line', async () => {
    const dead = new UserError('cannot reach host gpu1 over SSH: ssh: connect to host 10.0.0.1 port 22: Connection refused', 'check hosts.gpu1 (address, port, user, identityFile, knownHostsFile)');
    const results = await runRemoteSanity('gpu1', bare, [], answering({}).exec, {controlDir: '/tmp/ctl', ship: async () => Promise.reject(dead)});
    expect(results.map((r) => [r.id, r.status, r.finding])).toEqual([['remote.ssh', 'fail', dead.message]]);
  });
});

describe('parseRemoteReport', () => {
  it('skips anything printed before the report and refuses what is not one', () => {
    expect(parseRemoteReport('gpu2', `Warning: Permanently added '10.0.0.2' to the list of known hosts.\n${remoteReport}`)?.map((r) => r.host)).toEqual(['gpu2', 'gpu2']);
    expect(parseRemoteReport('gpu2', '{"version": 2}')).toBeUndefined();
    expect(parseRemoteReport('gpu2', 'not json')).toBeUndefined();
  });
});
