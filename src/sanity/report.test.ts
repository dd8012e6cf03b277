import {describe, expect, it} from 'vitest';
import type {CheckResult} from './check.js';
import {buildReport, hostReport, renderReport, sanityExitCode, sanityReportJsonSchema, sanityReportSchema, summaryLine} from './report.js';

const r = (partial: Partial<CheckResult> & Pick<CheckResult, 'id' | 'title' | 'status' | 'finding'>): CheckResult => ({
  area: 'system',
  host: 'local',
  durationMs: 1.5,
  ...partial,
});

const LOCAL: CheckResult[] = [
  r({id: 'system.os', title: 'Operating system', status: 'pass', finding: 'Ubuntu 22.04.4 LTS, kernel 5.15.0, x64, on the host', data: {arch: 'x64'}}),
  r({
    id: 'system.shm',
    title: 'Shared memory (/dev/shm)',
    status: 'warn',
    finding: '64 MiB (64 MiB free), want ≥ 1 GiB',
    fix: 'NCCL and NIXL need it: docker run --shm-size=16g / mount -o remount,size=16G /dev/shm',
  }),
  r({id: 'system.time', title: 'Clock sync', status: 'skip', finding: 'cannot tell: neither timedatectl, chronyc nor ntpstat answered'}),
  r({id: 'gpu.driver', area: 'gpu', title: 'NVIDIA driver', status: 'fail', finding: 'driver 535.104 supports CUDA 12.2', fix: 'install driver ≥ 550 (CUDA 12.4)'}),
  r({id: 'gpu.count', area: 'gpu', title: 'GPUs', status: 'pass', finding: '8 × H100 80GB HBM3'}),
];
const REMOTE: CheckResult[] = [r({id: 'system.os', host: 'gpu-2', title: 'Operating system', status: 'pass', finding: 'Rocky Linux 9.3, kernel 5.14.0, x64, on the host'})];

const report = buildReport([hostReport('local', LOCAL, 'dgx-01'), hostReport('gpu-2', REMOTE, 'gpu-2')], 412.6);

describe('sanity report', () => {
  it('prints a tree by host and area, a fix under each warning and failure, and a summary', () => {
    expect(renderReport(report)).toBe(
      [
        'local (dgx-01)',
        '├─ system',
        '│  ├─ ✅ Operating system: Ubuntu 22.04.4 LTS, kernel 5.15.0, x64, on the host',
        '│  ├─ ⚠️ Shared memory (/dev/shm): 64 MiB (64 MiB free), want ≥ 1 GiB',
        '│  │     → NCCL and NIXL need it: docker run --shm-size=16g / mount -o remount,size=16G /dev/shm',
        '│  └─ – Clock sync: cannot tell: neither timedatectl, chronyc nor ntpstat answered',
        '└─ gpu',
        '   ├─ ❌ NVIDIA driver: driver 535.104 supports CUDA 12.2',
        '   │     → install driver ≥ 550 (CUDA 12.4)',
        '   └─ ✅ GPUs: 8 × H100 80GB HBM3',
        '',
        'gpu-2',
        '└─ system',
        '   └─ ✅ Operating system: Rocky Linux 9.3, kernel 5.14.0, x64, on the host',
        '',
        '3 passed, 1 warning, 1 failed, 1 skipped in 0.41 s',
      ].join('\n'),
    );
  });

  it('counts every host in the summary and fails the run on any failure', () => {
    expect(report.summary).toEqual({passed: 3, warnings: 1, failed: 1, skipped: 1, durationMs: 413});
    expect(report.ok).toBe(false);
    expect(sanityExitCode(report)).toBe(1);
    const clean = buildReport([hostReport('local', LOCAL.filter((x) => x.status !== 'fail'))], 10);
    expect(clean.ok).toBe(true);
    expect(sanityExitCode(clean)).toBe(0);
  });

  it('words the summary line for people', () => {
    expect(summaryLine({passed: 12, warnings: 2, failed: 1, skipped: 3, durationMs: 410})).toBe('12 passed, 2 warnings, 1 failed, 3 skipped in 0.41 s');
    expect(summaryLine({passed: 0, warnings: 0, failed: 0, skipped: 0, durationMs: 0})).toBe('0 passed, 0 warnings, 0 failed, 0 skipped in 0.00 s');
  });

  it('keeps each result on its line even when a finding carries a newline', () => {
    const messy = buildReport([hostReport('local', [r({id: 'x', title: 'X', status: 'fail', finding: 'first\n  second', fix: 'do\nthis'})])], 0);
    expect(renderReport(messy).split('\n').slice(2, 4)).toEqual(['   └─ ❌ X: first second', '         → do this']);
  });

  it('says so when a host has no checks selected', () => {
    expect(renderReport(buildReport([hostReport('local', [])], 1))).toBe('local\n└─ no checks selected\n\n0 passed, 0 warnings, 0 failed, 0 skipped in 0.00 s');
  });

  it('JSON: names the host once per host, not per result, and keeps fix and data only where set', () => {
    const local = report.hosts[0]!;
    expect(local.host).toBe('local');
    expect(local.results[0]).toEqual({id: 'system.os', area: 'system', title: 'Operating system', status: 'pass', finding: 'Ubuntu 22.04.4 LTS, kernel 5.15.0, x64, on the host', durationMs: 1.5, data: {arch: 'x64'}});
    expect(local.results[1]).not.toHaveProperty('data');
    expect(sanityReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it('publishes a JSON Schema that describes the report', () => {
    const schema = sanityReportJsonSchema() as {$schema: string; properties: Record<string, {properties?: Record<string, unknown>}>; required: string[]};
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'ok', 'summary', 'hosts']));
    const result = JSON.stringify(schema.properties.hosts);
    for (const key of ['id', 'area', 'title', 'status', 'finding', 'fix', 'durationMs', 'data']) expect(result).toContain(`"${key}"`);
    expect(result).toContain('"skip"');
  });
});
