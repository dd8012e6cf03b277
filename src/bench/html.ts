/**
 * The bench's HTML report: one self-contained file (inline CSS and SVG, no network) with the
 * recommendation, a table per run, the latency–throughput curves across the sweep, TTFT and ITL
 * CDFs, and the share of requests meeting each SLO. A short inline script lets a click on a legend
 * entry hide its series; everything is readable without it.
 */
import type {PointResult} from './analyze.js';
import {recommend} from './analyze.js';
import {SLO_METRICS, type SloMetric} from './profile.js';
import {barChart, cdfPoints, esc, lineChart} from './svg.js';

const SLO_NAMES: Record<SloMetric, string> = {ttftMs: 'TTFT', ttstMs: 'TTST', tpotMs: 'TPOT (ITL)', e2eMs: 'E2E latency'};
const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

function runTable(points: readonly PointResult[], best?: PointResult): string {
  const head = ['load', 'requests', 'errors', 'req/s', 'output tok/s', 'TTFT p50 / p99 ms', 'TPOT p50 / p99 ms', 'chunk ITL p50 / p99 ms', 'E2E p50 / p99 ms', 'goodput req/s', 'SLO attainment', 'schedule lag p99 ms'];
  const rows = points.map((p) => {
    const a = p.aggregate;
    const errors = a.requests - a.completed;
    const cells = [
      p.label,
      String(a.requests),
      String(errors),
      f(a.requestThroughput, 2),
      f(a.outputTokenThroughput, 0),
      `${f(a.ttftMs.p50)} / ${f(a.ttftMs.p99)}`,
      `${f(a.tpotMs.p50, 2)} / ${f(a.tpotMs.p99, 2)}`,
      `${f(a.chunkItlMs.p50, 2)} / ${f(a.chunkItlMs.p99, 2)}`,
      `${f(a.e2eMs.p50)} / ${f(a.e2eMs.p99)}`,
      a.goodput === undefined ? '–' : f(a.goodput, 2),
      `${f(100 * p.sloAttainment)} %${p.meetsSla ? ' ✓' : ''}`,
      f(p.scheduleLagMs.p99, 3),
    ];
    return `<tr${p === best ? ' class="best"' : ''}>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderHtml(points: readonly PointResult[], meta: {title: string; target: string; model: string; slos: Partial<Record<SloMetric, number>>; attainment: number; createdAt: string}): string {
  const rec = recommend(points);
  const slos = SLO_METRICS.filter((m) => meta.slos[m] !== undefined);
  const charts: string[] = [];
  charts.push(
    lineChart({
      title: 'Latency vs throughput across the sweep',
      xLabel: 'output tokens/s',
      yLabel: 'ms',
      markers: true,
      series: [
        {name: 'TTFT p50', points: points.map((p) => [p.aggregate.outputTokenThroughput, p.aggregate.ttftMs.p50])},
        {name: 'TTFT p99', points: points.map((p) => [p.aggregate.outputTokenThroughput, p.aggregate.ttftMs.p99])},
        {name: 'E2E p50', points: points.map((p) => [p.aggregate.outputTokenThroughput, p.aggregate.e2eMs.p50])},
      ],
    }),
    lineChart({
      title: 'Time per output token vs throughput',
      xLabel: 'output tokens/s',
      yLabel: 'ms',
      markers: true,
      series: [
        {name: 'TPOT p50', points: points.map((p) => [p.aggregate.outputTokenThroughput, p.aggregate.tpotMs.p50])},
        {name: 'TPOT p99', points: points.map((p) => [p.aggregate.outputTokenThroughput, p.aggregate.tpotMs.p99])},
      ],
    }),
    lineChart({
      title: 'TTFT distribution (CDF)',
      xLabel: 'time to first token, ms',
      yLabel: 'share of requests',
      series: points.map((p) => ({name: p.label, points: cdfPoints(p.requests.flatMap((r) => (r.metrics.ttftMs === undefined ? [] : [r.metrics.ttftMs])))})),
    }),
    lineChart({
      title: 'Inter-chunk latency distribution (CDF, vLLM ITL)',
      xLabel: 'gap between chunks, ms',
      yLabel: 'share of gaps',
      series: points.map((p) => ({name: p.label, points: cdfPoints(p.requests.flatMap((r) => r.metrics.chunkGapsMs))})),
    }),
  );
  if (slos.length) {
    const within = (p: PointResult, m: SloMetric) => {
      const n = p.requests.length;
      return n ? p.requests.filter((r) => r.metrics.ok && r.metrics[m] !== undefined && r.metrics[m]! <= meta.slos[m]!).length / n : 0;
    };
    charts.push(
      barChart({
        title: 'Goodput per SLO: share of requests within each SLO',
        yLabel: 'share of requests',
        categories: points.map((p) => p.label),
        series: [
          ...slos.map((m) => ({name: `${SLO_NAMES[m]} ≤ ${meta.slos[m]} ms`, values: points.map((p) => within(p, m))})),
          {name: 'all SLOs', values: points.map((p) => p.sloAttainment)},
        ],
        yMax: 1,
        target: {value: meta.attainment, label: `target ${(100 * meta.attainment).toFixed(0)} %`},
      }),
    );
  }
  const sloText = slos.length ? slos.map((m) => `${SLO_NAMES[m]} ≤ ${meta.slos[m]} ms`).join(', ') : 'none set';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:20px;margin:0 0 4px}.meta{color:#555;margin-bottom:16px}
.rec{padding:10px 14px;border-radius:6px;margin:12px 0;font-size:15px}.rec.ok{background:#e7f5e9;border:1px solid #7bc47f}.rec.no{background:#fdecea;border:1px solid #e57373}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f5f5f5}td:first-child{text-align:left}
tr.best td{background:#e7f5e9;font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
svg.chart{width:100%;height:auto;background:#fff;border:1px solid #eee;font-size:11px}
svg .title{font-size:14px;font-weight:600}svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .target{stroke:#444;stroke-dasharray:5 4}
svg .legend{cursor:pointer}svg .off{opacity:.15}
</style></head><body>
<h1>${esc(meta.title)}</h1>
<div class="meta">${esc(meta.target)} · model ${esc(meta.model)} · SLOs: ${esc(sloText)} · attainment target ${(100 * meta.attainment).toFixed(0)} % · ${esc(meta.createdAt)}</div>
<div class="rec ${rec.best ? 'ok' : 'no'}" id="recommendation"><strong>${rec.best ? 'Recommended:' : 'No load met the SLA:'}</strong> ${esc(rec.reason)}</div>
${runTable(points, rec.best)}
<div class="charts">${charts.join('\n')}</div>
<script>
for (const svg of document.querySelectorAll('svg.chart')) {
  const series = svg.querySelectorAll('g.series');
  svg.querySelectorAll('g.legend').forEach((item, i) => item.addEventListener('click', () => {
    item.classList.toggle('off');
    series[i]?.classList.toggle('off');
  }));
}
</script>
</body></html>
`;
}
