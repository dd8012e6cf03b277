/**
 * The binary travels, over a real loopback sshd, to a user with its own home: copied compressed
 * the first time, kept the second, runnable there; a host that refuses SSH fails with the fix; and
 * `dynamo up` ships itself there and runs a worker that registers in etcd and serves.
 */
import {existsSync, writeFileSync} from 'node:fs';
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
import {type LoopbackSshd, hostUser, requireSshd, startSshd} from './helpers/sshd.js';

const USER = `dynship${process.pid % 10000}`;

describe('shipping dynamo to an SSH host', () => {
  requireBinary();
  requireSshd();
  let sshd: LoopbackSshd;
  const controlDir = tempDir('dyn-ctl-');
  let owner: ReturnType<typeof hostUser>;
  let home: string;
  beforeAll(async () => {
    owner = hostUser(USER);
    home = owner.home;
    sshd = await startSshd(BINARY, {user: USER});
  });
  afterAll(async () => {
    if (sshd) await closeSshMasters([sshd.host], controlDir);
    sshd?.stop();
    await owner?.remove();
  });

  it('copies this build the first time, keeps it the second, and it runs there', async () => {
    const host = {...sshd.host, dynamoPath: undefined};
    const id = await binaryIdOf(BINARY);
    expect(await shipBinary('gpu1', host, controlDir, {path: BINARY, id})).toBe('copied');
    expect(existsSync(join(home, shippedPath(id)))).toBe(true);
    expect(await shipBinary('gpu1', host, controlDir, {path: BINARY, id})).toBe('kept');
    const [ssh, ...args] = sshArgv(host, controlDir, `${shippedPath(id)} --version`);
    const version = await execa(ssh!, args);
    expect(version.stdout).toMatch(/^dynamo\/\d+\.\d+\.\d+/);
  }, 120_000);

  it('a host that refuses SSH fails before anything, naming the host and what to check', async () => {
    const host = {...sshd.host, port: 1};
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
