import {readFileSync} from 'node:fs';
import {type AddressInfo, type Server, createServer} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {readListeners} from './listeners.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function listen(host: string): Promise<number> {
  const s = createServer();
  servers.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, host, () => resolve((s.address() as AddressInfo).port));
  });
}

describe('readListeners on this machine', () => {
  it('finds a server this test opens, on IPv4 and IPv6, held by this very process', async () => {
    const v4 = await listen('127.0.0.1');
    const v6 = await listen('::1');
    const comm = readFileSync('/proc/self/comm', 'utf8').trim();
    const all = await readListeners();
    expect(all.find((l) => l.port === v4)).toEqual({port: v4, address: '127.0.0.1', pid: process.pid, command: comm});
    expect(all.find((l) => l.port === v6)).toEqual({port: v6, address: '::1', pid: process.pid, command: comm});
  });

  it('no longer lists the port once the server closes', async () => {
    const port = await listen('127.0.0.1');
    await new Promise((r) => servers.pop()!.close(r));
    expect((await readListeners()).some((l) => l.port === port)).toBe(false);
  });
});
