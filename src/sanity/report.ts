/**
 * A sanity run's report: the JSON document (`--json`, validated by `sanityReportSchema`, published
 * by `--print-schema`) and its text form, a tree by host, then area:
 *
 *   local (gpu-box-1)
 *   ├─ system
 *   │  ├─ ✅ Memory: 1.9 TiB available of 2 TiB
 *   │  └─ ⚠️ Shared memory (/dev/shm): 64 MiB (64 MiB free), want ≥ 1 GiB
 *   │        → NCCL and NIXL need it: docker run --shm-size=16g / …
 *   └─ gpu
 *      └─ – GPU driver: no NVIDIA driver
 *
 *   12 passed, 2 warnings, 1 failed, 3 skipped in 0.41 s
 *
 * Symbols: ✅ pass, ⚠️ warn, ❌ fail, – skip. Any failure makes the exit code 1.
 */
import {z} from 'zod';
import {AREAS, type CheckResult, type CheckStatus} from './check.js';

const resultSchema = z.object({
  id: z.string().describe('check id, as suites name it ("system.shm")'),
  area: z.enum(AREAS),
  title: z.string(),
  status: z.enum(['pass', 'warn', 'fail', 'skip']),
  finding: z.string().describe('one line: what was found'),
  fix: z.string().optional().describe('what to do, on warn and fail'),
  durationMs: z.number().min(0),
  data: z.record(z.string(), z.unknown()).optional().describe('machine-readable details, per check'),
});

const hostSchema = z.object({
  host: z.string().describe('"local", or the SSH host name under `hosts`'),
  hostname: z.string().optional().describe("the machine's own name"),
  results: z.array(resultSchema),
});

export const sanityReportSchema = z.object({
  version: z.literal(1),
  ok: z.boolean().describe('no check failed (exit code 0)'),
  summary: z.object({
    passed: z.number().int().min(0),
    warnings: z.number().int().min(0),
    failed: z.number().int().min(0),
    skipped: z.number().int().min(0),
    durationMs: z.number().min(0).describe('wall time of the whole run'),
  }),
  hosts: z.array(hostSchema),
});

export type SanityReport = z.infer<typeof sanityReportSchema>;
export type HostReport = SanityReport['hosts'][number];
export type ReportedResult = HostReport['results'][number];

/** JSON Schema of `dynamo sanity --json` (`--print-schema`). */
export function sanityReportJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'dynamo sanity report',
    ...z.toJSONSchema(sanityReportSchema, {io: 'output', unrepresentable: 'any'}),
  };
}

/** One host's results as the report carries them (the host is said once, above them). */
export function hostReport(host: string, results: readonly CheckResult[], hostname?: string): HostReport {
  return {
    host,
    ...(hostname ? {hostname} : {}),
    results: results.map(({id, area, title, status, finding, fix, durationMs, data}) => ({
      id,
      area,
      title,
      status,
      finding,
      ...(fix !== undefined ? {fix} : {}),
      durationMs,
      ...(data !== undefined ? {data} : {}),
    })),
  };
}

export function buildReport(hosts: HostReport[], durationMs: number): SanityReport {
  const count = (s: CheckStatus) => hosts.reduce((n, h) => n + h.results.filter((r) => r.status === s).length, 0);
  const summary = {passed: count('pass'), warnings: count('warn'), failed: count('fail'), skipped: count('skip'), durationMs: Math.round(durationMs)};
  return {version: 1, ok: summary.failed === 0, summary, hosts};
}

/** 1 when any check failed, else 0 (warnings and skips do not fail a run). */
export const sanityExitCode = (report: SanityReport): number => (report.ok ? 0 : 1);

export const STATUS_SYMBOL: Record<CheckStatus, string> = {pass: '✅', warn: '⚠️', fail: '❌', skip: '–'};

export function summaryLine(s: SanityReport['summary']): string {
  return `${s.passed} passed, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}, ${s.failed} failed, ${s.skipped} skipped in ${(s.durationMs / 1000).toFixed(2)} s`;
}

/** A tree branch: the item's connector, and the prefix its own children (and fix line) continue with. */
const branch = (last: boolean) => ({item: last ? '└─ ' : '├─ ', under: last ? '   ' : '│  '});

/** A finding or fix is one line by contract; a stray newline must not break the tree. */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

export function renderReport(report: SanityReport): string {
  const lines: string[] = [];
  for (const h of report.hosts) {
    lines.push(h.hostname && h.hostname !== h.host ? `${h.host} (${h.hostname})` : h.host);
    const areas = AREAS.filter((a) => h.results.some((r) => r.area === a));
    if (!areas.length) lines.push('└─ no checks selected');
    areas.forEach((area, ai) => {
      const a = branch(ai === areas.length - 1);
      lines.push(`${a.item}${area}`);
      const results = h.results.filter((r) => r.area === area);
      results.forEach((r, ri) => {
        const b = branch(ri === results.length - 1);
        lines.push(`${a.under}${b.item}${STATUS_SYMBOL[r.status]} ${r.title}: ${oneLine(r.finding)}`);
        if (r.fix && (r.status === 'warn' || r.status === 'fail')) lines.push(`${a.under}${b.under}   → ${oneLine(r.fix)}`);
      });
    });
    lines.push('');
  }
  lines.push(summaryLine(report.summary));
  return lines.join('\n');
}
