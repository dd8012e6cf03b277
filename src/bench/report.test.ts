import {describe, expect, it} from 'vitest';
import {analyzeRun, type PointResult, recommend} from './analyze.js';
import {benchExport, requestLines, toCsv} from './export.js';
import {renderHtml} from './html.js';
import type {RequestRecord, RunResult} from './load.js';
import type {LoadPoint} from './profile.js';
import {profileSchema} from './profile.js';
import {cdfPoints, lineChart, ticks} from './svg.js';

/** A record whose reply starts at `start`, first token after `ttft`, then `n − 1` tokens `gap` apart. */
function rec(start: number, ttft: number, n: number, gap: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  const chunks = [{at: start + 1, text: ''}, ...Array.from({length: n}, (_, i) => ({at: start + ttft + i * gap, text: ` t${i}`}))];
  return {
    session: 0,
    turn: 0,
    messages: [{role: 'user', content: ' a b c'}],
    maxTokens: n,
    plannedInputTokens: 3,
    response: {start, chunks, text: chunks.map((c) => c.text).join(''), usage: {promptTokens: 3, completionTokens: n}},
    ...extra,
  };
}
const runOf = (records: RequestRecord[]): RunResult => ({startedAt: 0, wallMs: 1000, records, interrupted: false});
const counter = {name: 'words', count: async (s: string) => s.split(' ').filter(Boolean).length};
const slos = [{metric: 'ttftMs' as const, maxMs: 100}];

async function point(point: LoadPoint, label: string, ttft: number): Promise<PointResult> {
  return analyzeRun(point, label, runOf([rec(0, ttft, 5, 10, {lagMs: 0.2}), rec(10, ttft * 2, 1, 0, {lagMs: 0.4}), rec(20, 5, 0, 0, {response: {start: 20, chunks: [], text: '', error: {kind: 'http_503', message: 'busy'}}})]), slos, 0.6, counter);
}

describe('analysis, recommendation and exports', () => {
  it('re-tokenizes outputs, keeps usage, and judges SLO attainment over all requests sent', async () => {
    const p = await point({mode: 'concurrency', concurrency: 1}, 'c1', 40);
    expect(p.aggregate).toMatchObject({requests: 3, completed: 2, errors: {http_503: 1}, goodRequests: 2});
    expect(p.aggregate.tokenCounts).toMatchObject({retokenized: 6, usage: 6});
    expect(p.sloAttainment).toBeCloseTo(2 / 3, 12);
    expect(p.meetsSla).toBe(true);
    expect(p.scheduleLagMs).toMatchObject({count: 2, max: 0.4});
    expect(p.tokenCountSource).toBe('words tokenizer');
  });

  it('the recommendation is the highest load meeting the SLA', async () => {
    const pts = [
      await point({mode: 'rate', requestRate: 1}, '1 req/s', 20),
      await point({mode: 'rate', requestRate: 4}, '4 req/s', 45),
      await point({mode: 'rate', requestRate: 2}, '2 req/s', 30),
      await point({mode: 'rate', requestRate: 8}, '8 req/s', 60), // second request 120 ms: 1/3 within
    ];
    expect(pts.map((p) => p.meetsSla)).toEqual([true, true, true, false]);
    expect(recommend(pts).best?.label).toBe('4 req/s');
    expect(recommend([pts[3]!]).best).toBeUndefined();
    expect(recommend([pts[3]!]).reason).toMatch(/no load met the SLA; the closest was 8 req\/s with 33\.3 %/);
  });

  it('exports AIPerf-named JSON, a CSV row per metric and a JSONL line per request', async () => {
    const pts = [await point({mode: 'concurrency', concurrency: 2}, 'c2', 40)];
    const e = benchExport(pts, profileSchema.parse({}), {url: 'http://x/v1', model: 'm'});
    const r = e.runs[0]!;
    expect(r.time_to_first_token).toMatchObject({unit: 'ms', avg: 60, min: 40, max: 80, count: 2});
    expect(r.inter_token_latency).toMatchObject({unit: 'ms', avg: 10, count: 1}); // the 1-token reply has none
    expect(r.inter_chunk_latency.count).toBe(4);
    expect(r.request_count.avg).toBe(2);
    expect(r.error_request_count.avg).toBe(1);
    expect(r.error_summary).toEqual([{kind: 'http_503', count: 1}]);
    const csv = toCsv(e).trim().split('\n');
    expect(csv[0]).toBe('run,metric,unit,avg,min,max,p50,p90,p95,p99,std,count');
    expect(csv).toContain('c2,time_to_first_token,ms,60,40,80,60,76,78,79.6,20,2');
    const lines = [...requestLines(pts)].map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({run: 'c2', time_to_first_token: 40, output_sequence_length: 5, chunk_ms: [40, 50, 60, 70, 80], schedule_lag_ms: 0.2});
    expect(lines[2]).toMatchObject({error: {kind: 'http_503'}, time_to_first_token: null});
  });

  it('renders a self-contained HTML report with the sweep curve, CDFs and SLO bars', async () => {
    const pts = [await point({mode: 'concurrency', concurrency: 1}, 'c1', 20), await point({mode: 'concurrency', concurrency: 4}, 'c4', 60)];
    const html = renderHtml(pts, {title: 'T <x>', target: 'http://x/v1', model: 'm', slos: {ttftMs: 100}, attainment: 0.6, createdAt: 'now'});
    expect(html.match(/<svg class="chart"/g)).toHaveLength(5);
    expect(html).toContain('T &lt;x&gt;');
    expect(html).toContain('<strong>Recommended:</strong> c1 is the highest load'); // c4's slow second reply puts it under the 60 % target
    expect(html).not.toMatch(/https?:\/\/(?!x\/v1|www\.w3\.org)/); // nothing fetched from a network
  });

  it('chart helpers: round ticks, CDF points, a path per series', () => {
    expect(ticks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(0.1, 0.52)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(cdfPoints([3, 1, 2, 4])).toEqual([[1, 0.25], [2, 0.5], [3, 0.75], [4, 1]]);
    const many = cdfPoints(Array.from({length: 1000}, (_, i) => i), 100);
    expect(many).toHaveLength(101); // every 10th value, and the maximum
    expect(many.at(-1)).toEqual([999, 1]);
    const svg = lineChart({title: 't', xLabel: 'x', yLabel: 'y', series: [{name: 'a', points: [[0, 1], [1, 2]]}, {name: 'b', points: []}]});
    expect(svg.match(/<path /g)).toHaveLength(1);
  });
});
