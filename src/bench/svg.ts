/**
 * Small, dependency-free SVG charts for the bench report: line charts (curves and CDFs) and grouped
 * bars. Pure string builders, so a report opens in any browser with no network and no script.
 */

export interface Series {
  name: string;
  points: [number, number][];
}

const W = 640;
const H = 360;
const M = {left: 64, right: 16, top: 36, bottom: 76};
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? String(Number(v.toFixed(1))) : String(Number(v.toPrecision(3))));

/** About `n` round tick values, from the last one at or below `lo` to the first at or above `hi`. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  const end = Math.ceil(hi / step - 1e-9) * step;
  for (let v = Math.floor(lo / step + 1e-9) * step; v <= end + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function frame(title: string, xLabel: string, yLabel: string, xt: number[], yt: number[], sx: (v: number) => number, sy: (v: number) => number, body: string, legend: string[]): string {
  const grid = yt.map((v) => `<line x1="${M.left}" x2="${W - M.right}" y1="${sy(v)}" y2="${sy(v)}" class="grid"/><text x="${M.left - 6}" y="${sy(v) + 4}" text-anchor="end">${fmt(v)}</text>`).join('');
  const xs = xt.map((v) => `<line x1="${sx(v)}" x2="${sx(v)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" class="axis"/><text x="${sx(v)}" y="${H - M.bottom + 18}" text-anchor="middle">${fmt(v)}</text>`).join('');
  const leg = legend
    .map((name, i) => `<g class="legend"><rect x="${M.left + (i % 4) * 140}" y="${H - 14 + Math.floor(i / 4) * 14 - 8}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${M.left + (i % 4) * 140 + 14}" y="${H - 14 + Math.floor(i / 4) * 14}">${esc(name)}</text></g>`)
    .join('');
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + Math.max(0, Math.ceil(legend.length / 4) - 1) * 14}" role="img" aria-label="${esc(title)}">
<text x="${W / 2}" y="20" text-anchor="middle" class="title">${esc(title)}</text>${grid}${xs}
<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" class="axis"/><line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" class="axis"/>
<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 38}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${body}${leg}</svg>`;
}

function extent(values: number[], fromZero: boolean): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return [0, 1];
  let lo = fromZero ? Math.min(0, ...finite) : Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi === lo) [lo, hi] = [lo - (lo ? Math.abs(lo) * 0.1 : 0), hi + (hi ? Math.abs(hi) * 0.1 : 1)];
  return [lo, hi];
}

/** Lines with markers; `step` draws a CDF as steps. */
export function lineChart(o: {title: string; xLabel: string; yLabel: string; series: Series[]; markers?: boolean; yFromZero?: boolean}): string {
  const all = o.series.flatMap((s) => s.points);
  const [x0, x1] = extent(
    all.map((p) => p[0]),
    false,
  );
  const [y0, y1] = extent(
    all.map((p) => p[1]),
    o.yFromZero ?? true,
  );
  const xt = ticks(x0, x1);
  const yt = ticks(y0, y1);
  const xa = Math.min(x0, xt[0]!);
  const xb = Math.max(x1, xt.at(-1)!);
  const ya = Math.min(y0, yt[0]!);
  const yb = Math.max(y1, yt.at(-1)!);
  const sx = (v: number) => Number((M.left + ((v - xa) / (xb - xa || 1)) * (W - M.left - M.right)).toFixed(1));
  const sy = (v: number) => Number((H - M.bottom - ((v - ya) / (yb - ya || 1)) * (H - M.top - M.bottom)).toFixed(1));
  const body = o.series
    .map((s, i) => {
      const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
      if (!pts.length) return '';
      const c = COLORS[i % COLORS.length];
      const d = pts.map((p, k) => `${k ? 'L' : 'M'}${sx(p[0])},${sy(p[1])}`).join('');
      const marks = o.markers
        ? pts.map((p) => `<circle cx="${sx(p[0])}" cy="${sy(p[1])}" r="3.5" fill="${c}"><title>${esc(s.name)}: (${fmt(p[0])}, ${fmt(p[1])})</title></circle>`).join('')
        : '';
      return `<g class="series" data-name="${esc(s.name)}"><path d="${d}" fill="none" stroke="${c}" stroke-width="2"/>${marks}</g>`;
    })
    .join('\n');
  return frame(
    o.title,
    o.xLabel,
    o.yLabel,
    xt,
    yt,
    sx,
    sy,
    body,
    o.series.map((s) => s.name),
  );
}

/** Points of an empirical CDF (value, share ≤ value), at most `max` of them. */
export function cdfPoints(values: readonly number[], max = 200): [number, number][] {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (!n) return [];
  const step = Math.max(1, Math.floor(n / max));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += step) out.push([sorted[i]!, (i + 1) / n]);
  if (out.at(-1)![1] !== 1) out.push([sorted[n - 1]!, 1]);
  return out;
}

/** Grouped vertical bars: one group per category, one bar per series; an optional dashed target line. */
export function barChart(o: {title: string; yLabel: string; categories: string[]; series: {name: string; values: number[]}[]; yMax?: number; target?: {value: number; label: string}}): string {
  const yMax = o.yMax ?? Math.max(1e-9, ...o.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const yt = ticks(0, yMax);
  const top = Math.max(yMax, yt.at(-1)!);
  const sy = (v: number) => Number((H - M.bottom - (v / top) * (H - M.top - M.bottom)).toFixed(1));
  const groupW = (W - M.left - M.right) / Math.max(1, o.categories.length);
  const barW = Math.min(40, (groupW * 0.8) / Math.max(1, o.series.length));
  const bars = o.categories
    .map((cat, g) => {
      const x0 = M.left + g * groupW + (groupW - barW * o.series.length) / 2;
      const rects = o.series
        .map((s, i) => {
          const v = s.values[g] ?? 0;
          return `<rect x="${(x0 + i * barW).toFixed(1)}" y="${sy(v)}" width="${(barW - 2).toFixed(1)}" height="${(H - M.bottom - sy(v)).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(cat)} · ${esc(s.name)}: ${fmt(v)}</title></rect>`;
        })
        .join('');
      return `${rects}<text x="${(M.left + g * groupW + groupW / 2).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${esc(cat)}</text>`;
    })
    .join('\n');
  const target = o.target
    ? `<line x1="${M.left}" x2="${W - M.right}" y1="${sy(o.target.value)}" y2="${sy(o.target.value)}" class="target"/><text x="${W - M.right}" y="${sy(o.target.value) - 4}" text-anchor="end">${esc(o.target.label)}</text>`
    : '';
  return frame(
    o.title,
    '',
    o.yLabel,
    [],
    yt,
    (v) => v,
    sy,
    bars + target,
    o.series.map((s) => s.name),
  );
}
