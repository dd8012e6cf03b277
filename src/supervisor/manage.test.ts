import {appendFileSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {tempDir, until} from '../../test/helpers/processes.js';
import {type PsRow, psTableRows, showLogs} from './manage.js';
import {logsDir, runDirOf} from './run-dir.js';

describe('ps and logs, as the commands show them', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('puts each deployment\'s supervisor on a row of its own, its processes under it', () => {
    const row: PsRow = {
      name: 'demo',
      status: 'ready',
      pid: 100,
      uptime: '3m2s',
      url: 'http://127.0.0.1:8000/v1',
      model: 'qwen3-0.6b',
      processes: [
        {id: 'agg-0', host: 'local', status: 'ready', pid: 101, restarts: 1, ports: {rpc: 8100, metrics: 8101}},
        {id: 'frontend', host: 'gpu1', status: 'starting', restarts: 0, ports: {http: 8000}},
      ],
    };
    expect(psTableRows([row])).toEqual([
      {name: 'demo', process: 'supervisor', host: 'local', status: 'ready', pid: 100, restarts: '', ports: '', uptime: '3m2s', url: 'http://127.0.0.1:8000/v1'},
      {name: '', process: 'agg-0', host: 'local', status: 'ready', pid: 101, restarts: 1, ports: '8100,8101', uptime: '', url: ''},
      {name: '', process: 'frontend', host: 'gpu1', status: 'starting', pid: '', restarts: 0, ports: '8000', uptime: '', url: ''},
    ]);
  });

  it('shows the last lines of each log, then follows until told to stop by a signal, and lets the signal go', async () => {
    vi.stubEnv('NO_COLOR', '1'); // plain prefixes, whatever the terminal
    const home = tempDir();
    const dir = logsDir(runDirOf(home, 'demo'));
    mkdirSync(dir, {recursive: true});
    writeFileSync(join(dir, 'agg-0.log'), 'one\ntwo\nthree\n');
    const lines: string[] = [];
    const following = showLogs(home, {name: 'demo', lines: 2, follow: true}, (l) => lines.push(l), ['SIGUSR2']);
    await until(() => lines.length === 2, 2000, 'the last two lines');
    expect(lines).toEqual(['agg-0@local │ two', 'agg-0@local │ three']);
    appendFileSync(join(dir, 'agg-0.log'), 'four\n');
    await until(() => lines.length === 3, 2000, 'the new line');
    expect(lines[2]).toBe('agg-0@local │ four');
    process.emit('SIGUSR2');
    await following;
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
