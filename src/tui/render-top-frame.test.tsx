import {describe, expect, it} from 'vitest';
import {renderTopFrame} from './render-top-frame.js';
import {loadTopFixture, type TopFixture} from './top-fixtures.test-support.js';

process.env.TZ = 'UTC';

const WIDTHS = [80, 120, 200] as const;
const ESC = '\u001b';
const FIXTURES: TopFixture[] = ['healthy-agg', 'worker-down-and-back', 'vllm-url', 'sglang-url', 'disagg', 'unknown-url'];

const columnsOf = (line: string) => [...line].length;
const rowOf = (frame: string, id: string) => frame.split('\n').find((l) => l.slice(2).startsWith(`${id} `));
const headingOf = (frame: string) => frame.split('\n').find((l) => /^ {2}ID/.test(l))!;

describe('renderTopFrame (the plain --once frame)', () => {
  it('keeps every line of every recorded snapshot within 80, 120 and 200 columns, with no escape codes', () => {
    for (const name of FIXTURES) {
      for (const snap of loadTopFixture(name)) {
        for (const width of WIDTHS) {
          const frame = renderTopFrame(snap, {width, color: false, selected: snap.sources[1]?.id});
          expect(frame).not.toContain(ESC);
          for (const line of frame.split('\n')) expect(columnsOf(line), `${name} @${width}: ${line}`).toBeLessThanOrEqual(width);
        }
      }
    }
  });

  it('shows a healthy deployment at 80 columns: name, model, uptime, totals, and the narrow columns', () => {
    const [snap] = loadTopFixture('healthy-agg');
    const frame = renderTopFrame(snap!, {width: 80});
    expect(frame).toMatchInlineSnapshot(`
      "dynamo top · demo · Qwen/Qwen3-0.6B · up 1 h 2 m         window 60 s · every 2 s
      req/s 13.8 · in 3.4k tok/s · out 905 tok/s
      in flight 14 · queued 2 · router queue 0
      TTFT p50 131 ms p99 890 ms · ITL p50 22 ms p99 51 ms
      prefix hit router 41% · workers 38%   errors/s 0 · 503/529/s 0

        ID        ROLE▼     STATE      RUN   WAIT   KV%   TOK/S                    RST
        frontend  frontend  up           –      –     –     905  █████▇▇▇▇▇▇▇▇▇█     0
        agg-0     agg       up           3      0   47%     218  ▇████▇▆▆▆▆▅▆▇▇▇     0
        agg-1     agg       up           4      1   63%     265  ██▇▇▇▆▆▆▆▆▆▇▇▇█     0
        agg-2     agg       up           5      2   72%     276  █▇▆▇▆▆▆▇▇▇█████     0
        agg-3     agg       up           6      0   75%     254  ▆▆▆▆▆▆▇▇▇███▇▇▇     0

      11:01:46  agg-3 ready on gpu-node-2 after 38 s"
    `);
  });

  it('drops HOST, the KV sparkline and HIT% at 80 columns and shows them from 120', () => {
    const [snap] = loadTopFixture('healthy-agg');
    const narrow = headingOf(renderTopFrame(snap!, {width: 80}));
    expect(narrow).not.toMatch(/HOST|HIT%/);
    const wide = renderTopFrame(snap!, {width: 120});
    expect(headingOf(wide)).toMatch(/ID +ROLE▼ +HOST +STATE +RUN +WAIT +KV% +HIT% +TOK\/S +RST/);
    expect(rowOf(wide, 'agg-2')).toMatch(/gpu-node-2 +up +5 +2 +72% +[▁-█]+ +45% +276 +[▁-█]+ +0$/);
  });

  it('moves the numbers between refreshes', () => {
    const [first, , third] = loadTopFixture('healthy-agg');
    expect(renderTopFrame(first!, {width: 120})).toContain('req/s 13.8 ');
    expect(renderTopFrame(third!, {width: 120})).toContain('req/s 14.2 ');
  });

  it('shows a worker going down, with the time it went down and why, and coming back with a restart', () => {
    const [down, back] = loadTopFixture('worker-down-and-back');
    expect(rowOf(renderTopFrame(down!, {width: 80}), 'agg-2')).toMatch(/^ {2}agg-2 +agg +down 6s +– +– +– +– /);
    const wide = renderTopFrame(down!, {width: 200, selected: 'agg-2'});
    expect(rowOf(wide, 'agg-2')).toMatch(/^› agg-2 +agg +gpu-node-2 +down since 12:03:04 \(6 s\) +– /);
    expect(wide).toContain('state down since 12:03:04 (6 s) — connection refused · restarts 0');
    expect(wide).toContain('errors/s 0.3 · 503/529/s 1.2');
    expect(wide).toContain('12:03:04  agg-2 down: connection refused');

    const again = renderTopFrame(back!, {width: 120, selected: 'agg-2'});
    expect(rowOf(again, 'agg-2')).toMatch(/ up +1 +0 +15% .* 150 .* 1$/);
    expect(again.split('\n').slice(-3)).toEqual([
      '12:03:04  agg-2 down: connection refused',
      '12:03:20  agg-2 restarted by the supervisor (1)',
      '12:03:24  agg-2 back after 20 s',
    ]);
  });

  it('leaves the gap of an outage blank in the sparklines', () => {
    const [, back] = loadTopFixture('worker-down-and-back');
    const frame = renderTopFrame(back!, {width: 120, selected: 'agg-2'});
    expect(frame).toMatch(/out tok\/s +[▁-█]+ {7}▁▃▅ {2}now 150/);
  });

  it('watches a plain vLLM endpoint: its URL in the title, no router so the router hit rate is "–"', () => {
    const [snap] = loadTopFixture('vllm-url');
    const lines = renderTopFrame(snap!, {width: 80}).split('\n');
    expect(lines[0]).toBe(`${'dynamo top · 127.0.0.1:8000'.padEnd(57)}window 30 s · every 1 s`);
    expect(lines[0]).toHaveLength(80);
    expect(lines).toContain('prefix hit router – · workers 42%   errors/s – · 503/529/s –');
    expect(rowOf(lines.join('\n'), '127.0.0.1:8000')).toMatch(/vllm +up +7 +1 +83% +412 /);
  });

  it('watches an SGLang endpoint', () => {
    const [snap] = loadTopFixture('sglang-url');
    const frame = renderTopFrame(snap!, {width: 120, selected: 'gpu-node-1:30000'});
    expect(frame.split('\n')[0]).toMatch(/^dynamo top · gpu-node-1:30000 +window 30 s · every 1 s$/);
    expect(rowOf(frame, 'gpu-node-1:30000')).toMatch(/sglang +– +up +7 +1 +97% .* 67% +412 /);
    expect(frame).toContain('metrics http://gpu-node-1:30000/metrics');
    expect(frame).not.toContain('top understands here');
  });

  it('shows the disaggregation line and the router queue for a prefill/decode deployment', () => {
    const [snap] = loadTopFixture('disagg');
    const frame = renderTopFrame(snap!, {width: 80});
    expect(frame).toContain('disagg prefill → decode · transfer 18k tok/s · queue 3');
    expect(frame).toContain('in flight 14 · queued 2 · router queue 2');
    const ids = frame.split('\n').filter((l) => /^ {2}\S+ .* up /.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(ids).toEqual(['frontend', 'prefill-0', 'prefill-1', 'decode-0', 'decode-1']);
    expect(rowOf(frame, 'decode-2')).toMatch(/^ {2}decode-2 +decode +starting +– +– +– +– +0$/);
    expect(renderTopFrame(snap!, {width: 80, selected: 'decode-2'})).toContain('state starting · restarts 0\nmetrics');
  });

  it('renders a snapshot with no sources yet', () => {
    const [snap] = loadTopFixture('vllm-url');
    const frame = renderTopFrame({...snap!, sources: [], totals: {hitRate: {}}}, {width: 80, selected: 'gone'});
    expect(frame).toContain('dynamo top · no sources');
    expect(headingOf(frame)).toMatch(/^ {2}ID +ROLE▼ +STATE/);
  });

  it('says what an unknown endpoint exposes that top understands, or that it exposes nothing', () => {
    const [snap] = loadTopFixture('unknown-url');
    const some = renderTopFrame(snap!, {width: 80, selected: 'llm-box:8080'});
    expect(some).toContain('top understands here: num_requests_running, time_to_first_token_seconds');
    const none = renderTopFrame(snap!, {width: 120, selected: '127.0.0.1:9100'});
    expect(none).toContain('nothing here that top understands (it reads vLLM, SGLang and Dynamo metrics)');
    expect(none.split('\n')[0]).toMatch(/^dynamo top · 127.0.0.1:9100, llm-box:8080 +window/);
  });

  it('marks the selected row and the sort column, and sorts by the key given', () => {
    const [down] = loadTopFixture('worker-down-and-back');
    const frame = renderTopFrame(down!, {width: 120, sort: 'state', selected: 'agg-0'});
    expect(headingOf(frame)).toContain('STATE▼');
    const rows = frame.split('\n').filter((l) => /^(›| ) (agg|frontend)/.test(l));
    expect(rows[0]).toMatch(/^ {2}agg-2 .* down /);
    expect(rows.filter((r) => r.startsWith('›'))).toEqual([expect.stringMatching(/^› agg-0 /)]);
  });
});
