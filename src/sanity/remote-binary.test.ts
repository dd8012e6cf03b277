import {describe, expect, it} from 'vitest';
import type {SshHost} from '../config/schema.js';
import {dynamoOn, shipThisBuild} from './remote-binary.js';

const host: SshHost = {address: '10.0.0.1', port: 22};

describe('dynamoOn', () => {
  it("runs a host's own dynamoPath and ships nothing", async () => {
    const ship = async () => Promise.reject(new Error('shipped'));
    expect(await dynamoOn('gpu1', {...host, dynamoPath: '/opt/dynamo'}, '/tmp/ctl', ship)).toBe('/opt/dynamo');
  });

  it('ships this build to a host without one', async () => {
    expect(await dynamoOn('gpu1', host, '/tmp/ctl', async () => '.dynamo/bin/dynamo-0123456789abcdef')).toBe('.dynamo/bin/dynamo-0123456789abcdef');
  });

  it('refuses under node, as `up` does: there is no single file to copy', async () => {
    await expect(shipThisBuild('gpu1', host, '/tmp/ctl')).rejects.toMatchObject({
      message: 'only the compiled dynamo binary can be copied to SSH hosts',
      hint: 'run dist/dynamo (npm run build), or set hosts.gpu1.dynamoPath to a dynamo on that host',
    });
  });
});
