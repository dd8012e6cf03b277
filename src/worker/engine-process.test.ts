import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {freePort, tempDir, until} from '../../test/helpers/processes.js';
import type {EngineLaunch} from '../engines/launch.js';
import {EngineProcess, type EngineProcessOptions} from './engine-process.js';

const FAKE = new URL('../../test/fixtures/fake-engine.mjs', import.meta.url).pathname;
const POLICY = {maxRestarts: 2, backoffMs: 50, backoffMaxMs: 200, stableMs: 60_000};

const running: EngineProcess[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop(2_000);
});

async function engine(args: string[], over: Partial<EngineProcessOptions> = {}) {
  const port = await freePort();
  const dir = tempDir();
  const events: string[] = [];
  const lines: string[] = [];
  const launch: EngineLaunch = {
    command: process.execPath,
    args: [FAKE, '--port', String(port), ...args],
    env: {FAKE_ENGINE: '1'},
    files: [{path: join(dir, 'conf', 'options.yaml'), contents: 'kv_cache_config: {}\n'}],
    host: '127.0.0.1',
    port,
    healthPath: '/health',
    metricsPath: '/metrics',
    kvEvents: {endpoints: [], replayEndpoints: []},
  };
  const e = new EngineProcess({
    name: 'vllm',
    launch,
    address: '127.0.0.1',
    port,
    logFile: join(dir, 'engine.log'),
    log: (l) => lines.push(l),
    restart: POLICY,
    progressEveryMs: 100,
    onUp: () => events.push('up'),
    onDown: (why, restarting) => events.push(`down ${restarting ? '(restarting) ' : ''}${why}`),
    onGiveUp: (why) => events.push(`give up: ${why}`),
    ...over,
  });
  running.push(e);
  return {e, port, dir, events, lines, crash: () => fetch(`http://127.0.0.1:${port}/crash`).catch(() => undefined)};
}

describe('an engine under its worker', () => {
  it('is up once its health path answers, after progress lines while it loads; its output is prefixed and logged', async () => {
    const {e, dir, events, lines} = await engine(['--load-ms', '600']);
    await e.start();
    expect(events).toEqual(['up']);
    expect(lines).toContain('[vllm] loading weights (600 ms)');
    expect(lines.some((l) => /^\[vllm\] loading: \d+ s so far \(up to 1800 s\); last: /.test(l))).toBe(true);
    expect(readFileSync(join(dir, 'conf', 'options.yaml'), 'utf8')).toBe('kv_cache_config: {}\n');
    expect(readFileSync(join(dir, 'engine.log'), 'utf8')).toMatch(/listening on/);
  });

  it('is restarted after a crash: down, then up again', async () => {
    const {e, events, crash} = await engine([]);
    await e.start();
    await crash();
    await until(async () => events.length >= 3, 10_000, 'the engine to come back');
    expect(events).toEqual(['up', 'down (restarting) vllm exited with code 3', 'up']);
  });

  it('gives up after the restarts the policy allows, and says why', async () => {
    const {e, events, crash} = await engine([], {restart: {...POLICY, maxRestarts: 1}});
    await e.start();
    await crash();
    await until(async () => events.length >= 3, 10_000, 'the restart');
    await crash();
    await until(async () => events.some((x) => x.startsWith('give up')), 10_000, 'the worker to give up');
    expect(events.at(-1)).toMatch(/^give up: vllm exited with code 3; crashed 2 times in a row \(limit 1 restarts\)/);
  });

  it('fails its first start with the engine\'s own last words', async () => {
    const {e, events} = await engine(['--fail', 'The model deepseek-r1 does not exist.']);
    await expect(e.start()).rejects.toThrow(/vllm did not become ready: exited with code 1\n {2}│ ValueError: The model deepseek-r1 does not exist\./);
    expect(events).toEqual([]);
  });

  it('says plainly when the engine is not installed (its wrapper exits 127)', async () => {
    const {e} = await engine([], {wrap: ['sh', '-c', 'exec no-such-engine-here', 'sh']});
    await expect(e.start()).rejects.toThrow(/vllm did not become ready: `.*` was not found on PATH: is vllm installed\? \(`dynamo sanity --engine vllm` checks\)/);
  });

  it('stops the whole process group: nothing the engine started survives', async () => {
    const {e, lines} = await engine(['--child']);
    await e.start();
    const grandchild = Number(lines.find((l) => l.startsWith('[vllm] grandchild '))!.split(' ').at(-1));
    expect(existsSync(`/proc/${grandchild}`)).toBe(true);
    await e.stop(2_000);
    await until(async () => !existsSync(`/proc/${grandchild}`) || readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(' ')[2] === 'Z', 5_000, 'the grandchild to go');
  });
});
