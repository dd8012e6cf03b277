// `dynamo top` on the built binary in a real terminal (tmux: send-keys, capture-pane), watching
// `dynamo up` with mocker workers under load from `dynamo bench`; and its plain twins.
import {execFileSync} from 'node:child_process';
import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {topSnapshotSchema} from '../src/top/snapshot-schema.js';
import {dynamo, startUntil} from './helpers/cli.js';
import {BINARY, freePort, freePortRange, requireBinary, tempDir, until} from './helpers/processes.js';

const TMUX = '/usr/bin/tmux';
const SOCKET = `dynamo-top-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync(TMUX, ['-L', SOCKET, ...args], {encoding: 'utf8'});
const screen = () => tmux('capture-pane', '-p', '-t', 'top');

/**
 * Waits until the screen satisfies `test`, reading it five times a second (each read is a tmux
 * process: polling faster loads a 2-core runner that is already running top, up and the bench).
 * On time-out the error carries the last screen, so a failure says what top was showing.
 */
async function untilScreen(test: (text: string) => boolean, ms: number, what: string): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = screen();
    if (test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen was:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The table row of a source: "agg-1  agg  local  up  3  0  0%  …". */
const row = (text: string, id: string) => text.split('\n').find((l) => l.replace(/^[›\s]+/, '').startsWith(`${id} `)) ?? '';
const tokensPerS = (text: string) => Number(/out ([\d.]+)(k?) tok\/s/.exec(text)?.[1] ?? Number.NaN) * (/out [\d.]+k tok\/s/.test(text) ? 1000 : 1);

describe('dynamo top', () => {
  requireBinary();
  const home = tempDir();
  const env = {DYN_HOME: home};
  let up: Awaited<ReturnType<typeof startUntil>> | undefined;
  let load: ReturnType<typeof execa> | undefined;

  beforeAll(async () => {
    if (!execFileSync('sh', ['-c', `command -v ${TMUX} || true`], {encoding: 'utf8'}).trim()) throw new Error('tmux is missing: run npm run setup');
    up = await startUntil(['up', '--model', 'llama-3.1-8b', '--workers', '2', '--port', String(await freePort()), '--name', 'watched'], /ready in/, {
      env: {...env, DYN_WORKERS_BASE_PORT: String(await freePortRange(4))},
      timeoutMs: 60_000,
    });
    // Load with shared prefixes, so the prefix-cache hit rate is above zero.
    load = execa(BINARY, ['bench', '--concurrency', '4', '--isl', '256', '--osl', '64', '--duration', '600', '--prefix-groups', '4', '--prefix-length', '200', '--output-dir', tempDir()], {
      env: {...env, NO_COLOR: '1', CI: '1'},
      reject: false,
    });
  }, 90_000);

  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {}
    load?.kill('SIGKILL');
    up?.child.kill('SIGTERM');
    await up?.child;
  });

  it('--json prints one snapshot that follows its schema, with rates from two refreshes', async () => {
    let r = await dynamo(['top', '--json', '--interval', '0.5'], {env});
    // The bench loads its tokenizer before it sends: wait until tokens flow.
    await until(async () => (JSON.parse((r = await dynamo(['top', '--json', '--interval', '0.5'], {env})).stdout).totals.outputTokensPerS ?? 0) > 0, 30_000, 'load to reach the workers');
    expect(r.exitCode, r.stderr).toBe(0);
    const snap = topSnapshotSchema.parse(JSON.parse(r.stdout));
    expect(snap.deployment?.name).toBe('watched');
    expect(snap.sources.map((s) => s.id).sort()).toEqual(['agg-0', 'agg-1', 'frontend']);
    expect(snap.totals.outputTokensPerS).toBeGreaterThan(0);
    const schema = JSON.parse((await dynamo(['top', '--print-schema'])).stdout);
    expect(schema.title).toBe('dynamo top snapshot');
  });

  it('--once prints one text frame at the terminal width it is given', async () => {
    const r = await dynamo(['top', '--once', '--interval', '0.5'], {env: {...env, COLUMNS: '100'}});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^dynamo top · watched · llama-3\.1-8b/);
    expect(row(r.stdout, 'agg-0')).toMatch(/ up /);
    expect(r.stdout).not.toMatch(/\u001b\[/);
    expect(Math.max(...r.stdout.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(100);
  });

  it('without a terminal and without --once or --json it says what to use instead', async () => {
    const r = await dynamo(['top'], {env});
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/needs a terminal[\s\S]*--once[\s\S]*--json/);
  });

  it('live in a terminal: figures move, hit rate and tokens/s are above zero, a killed worker shows down then back, q exits 0 and restores the terminal and its screen', async () => {
    tmux('new-session', '-d', '-s', 'top', '-x', '140', '-y', '40', `echo BEFORE-TOP; env DYN_HOME=${home} NO_COLOR=1 ${BINARY} top --interval 0.5; echo EXIT=$?; stty -a; sleep 600`);
    const first = await untilScreen((t) => tokensPerS(t) > 0 && row(t, 'agg-1').includes(' up '), 60_000, 'top to show the loaded deployment');
    const second = await untilScreen((t) => t.split('\n')[1] !== first.split('\n')[1], 10_000, 'the header figures to change');
    expect(tokensPerS(second)).toBeGreaterThan(0);
    const hit = /prefix hit router (\d+)%/.exec(second);
    expect(hit, second).not.toBeNull();
    await untilScreen((t) => Number(/prefix hit router (\d+)%/.exec(t)?.[1] ?? 0) > 0, 30_000, 'a prefix-cache hit rate above zero');

    // The arrow keys move the selection (the rows are sorted by role: frontend, then agg-0, agg-1).
    expect(screen()).toMatch(/^› frontend /m);
    tmux('send-keys', '-t', 'top', 'Down');
    await untilScreen((t) => /^› agg-0 /m.test(t), 10_000, 'the selection to move down');
    tmux('send-keys', '-t', 'top', 'Up');
    await untilScreen((t) => /^› frontend /m.test(t), 10_000, 'the selection to move back up');

    const ps = JSON.parse((await dynamo(['ps', '--json'], {env})).stdout) as {processes: {id: string; pid: number}[]}[];
    process.kill(ps[0]!.processes.find((p) => p.id === 'agg-1')!.pid, 'SIGKILL');
    await untilScreen((t) => / down /.test(row(t, 'agg-1')), 10_000, 'agg-1 to show as down');
    expect(row(screen(), 'agg-1')).not.toMatch(/ up /);
    // The supervisor restarts it: back up, with one restart counted.
    await untilScreen((t) => / up .* 1$/.test(row(t, 'agg-1').trimEnd()), 30_000, 'agg-1 to come back with a restart');

    tmux('send-keys', '-t', 'top', 'q');
    // Wait for stty's report too: on a loaded machine the pane can show EXIT= before it.
    const after = await untilScreen((t) => t.includes('EXIT=') && /(^|\s)-?icanon(\s|$)/m.test(t), 10_000, 'top to exit and stty to report');
    expect(after).toMatch(/EXIT=0/);
    // top drew on the alternate screen: the shell's screen is back as it was, with no frame left on it.
    expect(after).toContain('BEFORE-TOP');
    expect(after).not.toContain('dynamo top ·');
    // Raw mode is off again: the terminal reads lines and echoes.
    expect(after).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(after).toMatch(/(^|\s)echo(\s|$)/m);
  }, 180_000);
});
