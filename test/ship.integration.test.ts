/**
 * The binary travels, over a real loopback sshd, to a user with its own home: copied compressed
 * the first time, kept the second, runnable there; a host that refuses SSH fails with the fix; and
 * `dynamo up` ships itself there and runs a worker that registers in etcd and serves.
 */
import {execFileSync} from 'node:child_process';
import {chmodSync, chownSync, existsSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {closeSshMasters} from '../src/process/child.js';
import {sshArgv} from '../src/process/ssh.js';
import {binaryIdOf, shipBinary, shippedPath} from '../src/supervisor/ship.js';
import OpenAI from 'openai';
import {startUntil} from './helpers/cli.js';
import {requireEtcd, startEtcd} from './helpers/etcd.js';
import {BINARY, freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';
import {type LoopbackSshd, requireSshd, startSshd} from './helpers/sshd.js';

const USER = `dynship${process.pid % 10000}`;

describe('shipping dynamo to an SSH host', () => {
  requireBinary();
  requireSshd();
  let sshd: LoopbackSshd;
  const home = tempDir('dyn-shiphome-');
  const controlDir = tempDir('dyn-ctl-');
  beforeAll(async () => {
    // A user of its own, so the copy lands in a home of its own.
    // '*' and not useradd's locked '!': sshd without PAM refuses a locked account even with a key.
    execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', '-p', '*', USER]);
    const id = (flag: string) => Number(execFileSync('id', [flag, USER]).toString().trim());
    mkdirSync(home, {recursive: true});
    chownSync(home, id('-u'), id('-g'));
    sshd = await startSshd(BINARY);
    // sshd reads the key list as the user logging in: let that user into the helper's folder.
    chmodSync(sshd.dir, 0o755);
    chmodSync(join(sshd.dir, 'authorized_keys'), 0o644);
  });
  afterAll(async () => {
    if (sshd) await closeSshMasters([{...sshd.host, user: USER}], controlDir);
    sshd?.stop();
    // Sessions end a moment after their client: end them, then remove the user.
    await execa('pkill', ['-u', USER], {reject: false});
    await new Promise((r) => setTimeout(r, 300));
    execFileSync('userdel', [USER]);
  });

  it('copies this build the first time, keeps it the second, and it runs there', async () => {
    const host = {...sshd.host, user: USER, dynamoPath: undefined};
    const id = await binaryIdOf(BINARY);
    expect(await shipBinary('gpu1', host, controlDir, {path: BINARY, id})).toBe('copied');
    expect(existsSync(join(home, shippedPath(id)))).toBe(true);
    expect(await shipBinary('gpu1', host, controlDir, {path: BINARY, id})).toBe('kept');
    const [ssh, ...args] = sshArgv(host, controlDir, `${shippedPath(id)} --version`);
    const version = await execa(ssh!, args);
    expect(version.stdout).toMatch(/^dynamo\/\d+\.\d+\.\d+/);
  }, 120_000);

  it('a host that refuses SSH fails before anything, naming the host and what to check', async () => {
    const host = {...sshd.host, user: USER, port: 1};
    await expect(shipBinary('gpu9', host, controlDir, {path: BINARY, id: 'x'})).rejects.toThrow(/^cannot reach host gpu9 over SSH: .*(refused|Connection)/);
  });

  it('dynamo up ships itself to the host and runs a worker there that registers in etcd and serves', async () => {
    requireEtcd();
    const etcd = await startEtcd();
    const dir = tempDir();
    const port = await freePort();
    const h = sshd.host;
    writeFileSync(
      join(dir, 'dynamo.config.yaml'),
      [
        'model: qwen3-0.6b',
        'hosts:',
        `  gpu1: {address: ${h.address}, port: ${h.port}, user: ${USER}, identityFile: ${h.identityFile}, knownHostsFile: ${h.knownHostsFile}}`,
        'workers:',
        `  basePort: ${await freePortRange(2)}`,
        '  agg: {count: 1, hosts: [gpu1]}',
        `discovery: {backend: etcd, etcdEndpoints: [${etcd.endpoint}]}`,
        '',
      ].join('\n'),
    );
    const env = {DYN_HOME: tempDir()};
    const up = await startUntil(['up', '--port', String(port)], /ready in/, {env, cwd: dir, timeoutMs: 120_000});
    try {
      expect(up.output()).toMatch(/dynamo on gpu1: this build (is there|copied)/);
      const client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0});
      const r = await client.completions.create({model: 'qwen3-0.6b', prompt: 'Hello from the other host', max_tokens: 4});
      expect(r.choices[0]!.text.length).toBeGreaterThan(0);
      // The worker runs as the host's user, from the copy in its home.
      const ps = await execa('pgrep', ['-u', USER, '-af', 'dynamo-'], {reject: false});
      expect(ps.stdout).toMatch(/\.dynamo\/bin\/dynamo-[0-9a-f]{16} worker/);
    } finally {
      up.child.kill('SIGTERM');
      await up.child;
      await etcd.stop('SIGTERM');
    }
    // Nothing of the deployment is left on the host (the test's own SSH master may still be).
    await until(async () => (await execa('pgrep', ['-u', USER, '-f', 'dynamo-'], {reject: false})).stdout.trim() === '', 10_000, 'nothing of the deployment left on the host');
  }, 180_000);
});
