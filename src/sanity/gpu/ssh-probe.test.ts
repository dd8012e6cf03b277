import {describe, expect, it} from 'vitest';
import {recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import type {SshHost} from '../../config/schema.js';
import type {CommandResult} from '../check.js';
import {type LocalExec, probeGpusOverSsh} from './ssh-probe.js';

const HOST: SshHost = {address: '10.0.0.7', port: 2222, user: 'gpu', env: {PATH: '/opt/venv/bin:/usr/bin'}};

/** An exec that plays ssh: the remote command is the last word; `answer` says what the host does with it. */
function sshTwin(answer: (remote: string) => Promise<CommandResult>): {exec: LocalExec; remotes: string[]} {
  const remotes: string[] = [];
  return {
    remotes,
    exec: async (argv) => {
      expect(argv.slice(0, 1)).toEqual(['ssh']);
      expect(argv).toEqual(expect.arrayContaining(['-p', '2222', '-l', 'gpu', '10.0.0.7']));
      const remote = argv.at(-1)!;
      remotes.push(remote);
      return answer(remote);
    },
  };
}

describe('GPUs of an SSH host', () => {
  it('runs nvidia-smi there with the host\'s environment and reads it as it would here', async () => {
    const box = recordedRun('h100-sxm-8');
    const {exec, remotes} = sshTwin((remote) => box('nvidia-smi', remote.split(' nvidia-smi ')[1]!.split(' ')));
    const found = await probeGpusOverSsh('gpu1', HOST, '/tmp/ctl', exec);
    expect(found.state).toBe('ok');
    if (found.state === 'ok') expect(found.topology.gpus).toHaveLength(8);
    expect(remotes.sort()).toEqual(["exec env PATH=/opt/venv/bin:/usr/bin nvidia-smi -q -x", "exec env PATH=/opt/venv/bin:/usr/bin nvidia-smi topo -m"]);
  });

  it('says the host cannot be reached, or has no nvidia-smi, naming the host', async () => {
    const refused = sshTwin(async () => ({ok: true, code: 255, stdout: '', stderr: 'ssh: connect to host 10.0.0.7 port 2222: Connection refused\n'}));
    await expect(probeGpusOverSsh('gpu1', HOST, '/tmp/ctl', refused.exec)).rejects.toThrow('cannot reach host gpu1 over SSH: ssh: connect to host 10.0.0.7 port 2222: Connection refused');
    const noSmi = sshTwin(async () => ({ok: true, code: 127, stdout: '', stderr: 'sh: 1: exec: nvidia-smi: not found\n'}));
    expect(await probeGpusOverSsh('gpu1', HOST, '/tmp/ctl', noSmi.exec)).toEqual({state: 'no-driver', reason: 'nvidia-smi not found on gpu1'});
    const broken = sshTwin(async () => ({ok: true, code: 9, stdout: 'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.\n', stderr: ''}));
    expect(await probeGpusOverSsh('gpu1', HOST, '/tmp/ctl', broken.exec)).toMatchObject({state: 'error', reason: expect.stringContaining("couldn't communicate with the NVIDIA driver")});
  });
});
