import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import type {CheckResult} from './check.js';
import {renderReport, sanityReportSchema} from './report.js';
import {NO_MODEL_FINDING} from './runner.js';
import {runSanity} from './run.js';

// This machine, for real: no GPU and no NVIDIA driver here (CI and the dev VM).
const dir = mkdtempSync(join(tmpdir(), 'dynamo-sanity-'));
const env: NodeJS.ProcessEnv = {...process.env, DYNAMO_HOME: join(dir, 'home')};
delete env.DYN_MODEL;
delete env.DYN_CONFIG;
afterAll(() => rmSync(dir, {recursive: true, force: true}));

describe('runSanity on this machine', () => {
  it('completes with a valid report: system checks judged, GPU checks skipped, nothing failed in the GPU area', async () => {
    const report = await runSanity({flags: [], cwd: dir, env, local: true});
    expect(sanityReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    const [local] = report.hosts;
    expect(local!.host).toBe('local');
    const system = local!.results.filter((r) => r.area === 'system');
    expect(system.map((r) => r.id)).toEqual(['system.os', 'system.cpu', 'system.memory', 'system.shm', 'system.limits', 'system.disk', 'system.time']);
    expect(system.find((r) => r.id === 'system.os')!.status).toBe('pass');
    const gpu = local!.results.filter((r) => r.area === 'gpu');
    expect(gpu.length).toBeGreaterThan(0);
    expect(gpu.map((r) => r.status)).toEqual(gpu.map(() => 'skip'));
    expect(gpu.find((r) => r.id === 'gpu.driver')!.finding).toMatch(/no NVIDIA driver/);
    // Nothing crashed or timed out: every finding is a real answer.
    for (const r of local!.results) expect(r.finding).not.toMatch(/^(check crashed|timed out)/);
  });

  it('runs only the areas asked for', async () => {
    const report = await runSanity({flags: [], cwd: dir, env, local: true, only: ['gpu']});
    expect(new Set(report.hosts[0]!.results.map((r) => r.area))).toEqual(new Set(['gpu']));
  });

  it('skips every deployment check without a model, saying so', async () => {
    const report = await runSanity({flags: [], cwd: dir, env, local: true, only: ['deployment']});
    const results = report.hosts[0]!.results;
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r).toMatchObject({area: 'deployment', status: 'skip', finding: NO_MODEL_FINDING});
  });

  it('judges the deployment `up` would start from the same flags: the mocker needs no GPU, so nothing fails', async () => {
    const flags = [{flag: '--model', path: ['model'], value: 'qwen3-0.6b'}];
    const report = await runSanity({flags, cwd: dir, env, local: true, only: ['deployment']});
    const results = report.hosts[0]!.results;
    expect(results.filter((r) => r.finding === NO_MODEL_FINDING)).toEqual([]);
    expect(results.filter((r) => r.status === 'fail')).toEqual([]);
  });

  it('refuses a broken config as the user error it is, naming the key', async () => {
    const flags = [{flag: '--model', path: ['model'], value: 'qwen3-0.6b'}, {flag: '--port', path: ['frontend', 'port'], value: 70000}];
    await expect(runSanity({flags, cwd: dir, env, local: true})).rejects.toMatchObject({name: 'UserError', message: expect.stringMatching(/port/)});
  });

  it('asks every SSH host the plan uses for its own report, unless --local', async () => {
    const cwd = mkdtempSync(join(dir, 'hosts-'));
    writeFileSync(
      join(cwd, 'dynamo.config.yaml'),
      ['model: qwen3-0.6b', 'hosts:', '  gpu-1: {address: 10.0.0.1, user: ops}', '  spare: {address: 10.0.0.9}', 'workers:', '  agg: {count: 2, hosts: [gpu-1]}', ''].join('\n'),
    );
    const asked: {host: string; address: string; args: string[]; config: Record<string, any>}[] = [];
    const remote = async (host: string, ssh: {address: string}, request: {args: string[]; input: string}): Promise<CheckResult[]> => {
      asked.push({host, address: ssh.address, args: request.args, config: JSON.parse(request.input)});
      return [{id: 'system.shm', area: 'system', title: 'Shared memory (/dev/shm)', host, status: 'fail', finding: '/dev/shm is not mounted', fix: 'mount it', durationMs: 1}];
    };
    const flags = [{flag: '--disagg', path: ['disagg'], value: false}];
    const report = await runSanity({flags, cwd, env, only: ['system'], thorough: true, remote});
    // The spare host runs nothing, so it is not asked; it gets the effective config (the file's keys
    // and the flags') on stdin and its own name, so it plans and judges what runs on it.
    expect(asked.map(({host, address, args}) => ({host, address, args}))).toEqual([
      {host: 'gpu-1', address: '10.0.0.1', args: ['--config', '-', '--as-host', 'gpu-1', '--thorough', '--only', 'system']},
    ]);
    expect(asked[0]!.config).toMatchObject({model: 'qwen3-0.6b', disagg: false, workers: {agg: {count: 2, hosts: ['gpu-1']}}});
    expect(asked[0]!.config.frontend.apiKey).toBeUndefined();
    expect(report.hosts.map((h) => h.host)).toEqual(['local', 'gpu-1']);
    expect(report.ok).toBe(false);
    expect(renderReport(report)).toContain('gpu-1\n└─ system\n   └─ ❌ Shared memory (/dev/shm): /dev/shm is not mounted\n         → mount it');

    asked.length = 0;
    const local = await runSanity({flags, cwd, env, only: ['system'], local: true, remote});
    expect(asked).toEqual([]);
    expect(local.hosts.map((h) => h.host)).toEqual(['local']);
  });
});
