import {mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {WorkerRecord} from '../runtime/discovery/types.js';
import {UserError} from '../shared/errors.js';
import {type RunState, procStartTime, runDirOf, writeState} from '../supervisor/run-dir.js';
import {deploymentSources, readDiscovery, urlSources} from './source-provider.js';
import {metricsUrl, sourcesFromRunState, sourcesFromUrls} from './sources.js';

function runState(over: Partial<RunState> = {}): RunState {
  return {
    name: 'demo',
    supervisorPid: process.pid,
    supervisorStartTime: procStartTime(process.pid),
    status: 'ready',
    startedAt: 1_800_000_000_000,
    url: 'http://127.0.0.1:8000',
    model: 'qwen3-0.6b',
    processes: [
      {id: 'agg-0', role: 'agg', host: 'local', status: 'ready', pid: 101, restarts: 0, ports: {rpc: 9100, metrics: 9101}, logFile: '/runs/demo/logs/agg-0.log'},
      {id: 'agg-1', role: 'agg', host: 'gpu-b', status: 'ready', pid: 102, restarts: 1, ports: {rpc: 9102, metrics: 9103}, logFile: '/runs/demo/logs/agg-1.log'},
      {id: 'frontend', role: 'frontend', host: 'local', status: 'ready', pid: 103, restarts: 0, ports: {http: 8000}, logFile: '/runs/demo/logs/frontend.log'},
    ],
    ...over,
  };
}

const record = (id: string, host: string, metricsPort: number): WorkerRecord => ({
  id,
  role: 'agg',
  model: 'qwen3-0.6b',
  engine: 'mocker',
  host,
  rpcPort: metricsPort - 1,
  metricsPort,
  startedAt: 1,
  runtime: {totalKvBlocks: 1, blockSize: 16, maxNumSeqs: 1, maxNumBatchedTokens: 1, contextLength: 1},
});

describe('sources of a deployment, from its run state', () => {
  it('scrapes the frontend at the client URL and each worker at its metrics port, with role, host, log and restarts', () => {
    const s = sourcesFromRunState(runState(), [record('agg-0', '127.0.0.1', 9101), record('agg-1', '10.0.0.7', 9103)]);
    expect(s).toEqual([
      {id: 'agg-0', role: 'agg', host: 'local', logFile: '/runs/demo/logs/agg-0.log', restarts: 0, status: 'ready', url: 'http://127.0.0.1:9101/metrics', kindHint: 'dynamo-worker', inDiscovery: true},
      {id: 'agg-1', role: 'agg', host: 'gpu-b', logFile: '/runs/demo/logs/agg-1.log', restarts: 1, status: 'ready', url: 'http://10.0.0.7:9103/metrics', kindHint: 'dynamo-worker', inDiscovery: true},
      {id: 'frontend', role: 'frontend', host: 'local', logFile: '/runs/demo/logs/frontend.log', restarts: 0, status: 'ready', url: 'http://127.0.0.1:8000/metrics', kindHint: 'dynamo-frontend'},
    ]);
  });

  it('marks a worker missing from discovery, and falls back to its host name when it advertises nothing', () => {
    const s = sourcesFromRunState(runState(), [record('agg-0', '127.0.0.1', 9101)]);
    expect(s[1]).toMatchObject({id: 'agg-1', url: 'http://gpu-b:9103/metrics', inDiscovery: false});
    expect(sourcesFromRunState(runState())[0]!.inDiscovery).toBeUndefined();
  });

  it('without records (etcd is not read here), a remote worker is scraped where the supervisor reaches it', () => {
    const state = runState();
    state.processes[1] = {...state.processes[1]!, address: '10.0.0.7'};
    expect(sourcesFromRunState(state)[1]).toMatchObject({id: 'agg-1', host: 'gpu-b', url: 'http://10.0.0.7:9103/metrics'});
  });
});

describe('sources from --url', () => {
  it('completes a base URL with /metrics and keeps a full one', () => {
    expect(metricsUrl('localhost:8000')).toBe('http://localhost:8000/metrics');
    expect(metricsUrl('http://10.0.0.5:8000/')).toBe('http://10.0.0.5:8000/metrics');
    expect(metricsUrl('https://h:9/custom/metrics')).toBe('https://h:9/custom/metrics');
    expect(metricsUrl('[::1]:30000')).toBe('http://[::1]:30000/metrics');
  });

  it('refuses what is not an http(s) URL, saying what to give', () => {
    expect(() => metricsUrl('ftp://h/x')).toThrow(UserError);
    expect(() => metricsUrl('http://')).toThrow(/is not a URL/);
  });

  it('names each by host:port, with the path when two share one, and drops repeats', () => {
    expect(sourcesFromUrls(['gpu-0:8000', 'gpu-1:8000', 'http://gpu-0:8000/metrics']).map((s) => [s.id, s.url, s.host])).toEqual([
      ['gpu-0:8000', 'http://gpu-0:8000/metrics', 'gpu-0'],
      ['gpu-1:8000', 'http://gpu-1:8000/metrics', 'gpu-1'],
    ]);
    expect(sourcesFromUrls(['h:1/a', 'h:1/b']).map((s) => s.id)).toEqual(['h:1/a', 'h:1/b']);
    expect(urlSources(['h:1']).read(0).sources[0]!.role).toBeUndefined();
  });
});

describe('the run directory, re-read each refresh', () => {
  let home = '';
  afterEach(() => rmSync(home, {recursive: true, force: true}));

  it('shows restarts, new ports and workers leaving discovery as they happen, and says when the state is gone', () => {
    home = mkdtempSync(join(tmpdir(), 'dyn-top-'));
    const runDir = runDirOf(home, 'demo');
    writeState(runDir, runState());
    const inst = join(runDir, 'discovery', 'instances');
    mkdirSync(inst, {recursive: true});
    writeFileSync(join(inst, 'agg-0.json'), JSON.stringify(record('agg-0', '127.0.0.1', 9101)));
    writeFileSync(join(inst, 'agg-1.json'), JSON.stringify(record('agg-1', '127.0.0.1', 9103)));

    const provider = deploymentSources(home, undefined);
    expect(provider.deployment).toEqual({name: 'demo', model: 'qwen3-0.6b', url: 'http://127.0.0.1:8000', startedAt: 1_800_000_000_000});
    const now = Date.now();
    expect(provider.read(now).sources.map((s) => [s.id, s.restarts, s.inDiscovery])).toEqual([
      ['agg-0', 0, true],
      ['agg-1', 1, true],
      ['frontend', 0, undefined],
    ]);

    const next = runState();
    next.processes[0] = {...next.processes[0]!, restarts: 1, pid: 201};
    writeState(runDir, next);
    rmSync(join(inst, 'agg-1.json'));
    expect(provider.read(now).sources.map((s) => [s.id, s.restarts, s.inDiscovery])).toEqual([
      ['agg-0', 1, true],
      ['agg-1', 1, false],
      ['frontend', 0, undefined],
    ]);

    rmSync(join(runDir, 'state.json'));
    const gone = provider.read(now);
    expect(gone.gone).toBe(true);
    expect(gone.sources).toHaveLength(3);
  });

  it('reads discovery without touching it, ignoring leases that lapsed', () => {
    home = mkdtempSync(join(tmpdir(), 'dyn-top-'));
    const inst = join(home, 'discovery', 'instances');
    mkdirSync(inst, {recursive: true});
    writeFileSync(join(inst, 'agg-0.json'), JSON.stringify(record('agg-0', 'h', 1)));
    writeFileSync(join(inst, 'agg-1.json'), JSON.stringify(record('agg-1', 'h', 2)));
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(inst, 'agg-1.json'), old, old);
    expect(readDiscovery(home, Date.now())!.map((r) => r.id)).toEqual(['agg-0']);
    expect(readDiscovery(join(home, 'nowhere'), Date.now())).toBeUndefined();
  });

  it('says which deployments exist when none is named and none runs', () => {
    home = mkdtempSync(join(tmpdir(), 'dyn-top-'));
    expect(() => deploymentSources(home, undefined)).toThrow(/no deployment is running/);
  });
});
