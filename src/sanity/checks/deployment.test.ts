import {mkdtempSync} from 'node:fs';
import {type Server, createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {recordedRun} from '../../../test/fixtures/gpu/boxes.js';
import {buildConfigSchema} from '../../config/schema.js';
import {planDeployment} from '../../supervisor/plan.js';
import type {CheckOutcome, CommandResult, PortHolder, SanityContext, SanityDeployment, SanityFacts} from '../check.js';
import type {GpuProbe} from '../gpu/topology.js';
import {sanityDeployment} from '../deployment.js';
import {probeNvidiaSmi} from '../gpu/smi-probe.js';
import {deploymentChecks, servicesCheck, tcpReachable} from './deployment.js';

const schema = buildConfigSchema({allowUnavailable: true});
const deploy = (cfg: Record<string, unknown>): SanityDeployment => {
  const config = schema.parse(cfg);
  return {config, plan: planDeployment(config, {runDir: '/runs/demo', selfArgv: ['/usr/local/bin/dynamo']})};
};

type Answer = (args: string[]) => CommandResult;
const missing = (command: string): CommandResult => ({ok: false, code: null, stdout: '', stderr: `spawn ${command} ENOENT`});

interface Recorded {
  gpu?: GpuProbe;
  listeners?: PortHolder[];
  /** Answers of programs by name; anything else is missing. */
  programs?: Record<string, Answer>;
}

function facts(r: Recorded): SanityFacts {
  return {
    gpu: async () => r.gpu ?? {state: 'no-driver', reason: 'nvidia-smi not found and NVML not loadable'},
    system: () => Promise.reject(new Error('deployment checks read no system facts')),
    listeners: async () => r.listeners ?? [],
    run: async (command, args) => r.programs?.[command]?.(args) ?? missing(command),
  };
}

const ctx = (deployment: SanityDeployment | undefined, r: Recorded = {}, host = 'local'): SanityContext => ({host, thorough: false, facts: facts(r), deployment, engine: deployment?.config.engine ?? 'mocker', params: {}});
const check = (id: string) => deploymentChecks.find((c) => c.id === id)!;
const run = (id: string, d: SanityDeployment, r: Recorded = {}): Promise<CheckOutcome> => check(id).run(ctx(d, r));
const brief = ({status, finding, fix}: CheckOutcome) => ({status, finding, fix});

let h100x8: GpuProbe;
let a100Pairs: GpuProbe;
let l4: GpuProbe;
/** One GPU of the H100 box. */
let h100x1: GpuProbe;

beforeAll(async () => {
  h100x8 = await probeNvidiaSmi(recordedRun('h100-sxm-8'));
  a100Pairs = await probeNvidiaSmi(recordedRun('a100-pcie-4-nvlink-pairs'));
  l4 = await probeNvidiaSmi(recordedRun('l4-1'));
  if (h100x8.state !== 'ok') throw new Error('the H100 fixture did not parse');
  const t = h100x8.topology;
  h100x1 = {state: 'ok', topology: {...t, gpus: t.gpus.slice(0, 1), p2p: [t.p2p[0]!.slice(0, 1)]}};
});

describe('deployment checks', () => {
  it('are the seven of area "deployment", with unique ids', () => {
    expect(deploymentChecks.map((c) => c.id)).toEqual([
      'deployment.fit',
      'deployment.gpu-count',
      'deployment.tp-nvlink',
      'deployment.ports',
      'deployment.engine',
      'deployment.ucx',
      'deployment.services',
    ]);
    expect(new Set(deploymentChecks.map((c) => c.area))).toEqual(new Set(['deployment']));
  });

  it('the mocker on a box without GPUs: nothing fails, and the fit names the simulated GPUs', async () => {
    const d = deploy({model: 'deepseek-r1'});
    const outcomes = await Promise.all(deploymentChecks.map((c) => c.run(ctx(d))));
    expect(outcomes.filter((o) => o.status === 'fail' || o.status === 'warn')).toEqual([]);
    expect((await run('deployment.fit', d)).finding).toMatch(/^the mocker simulates the GPUs \(none needed here\): 16 × 80 GiB per worker \(TP 16, its own choice\), \d+(\.\d)?M tokens of KV cache$/);
    expect((await run('deployment.engine', d)).finding).toBe('the mocker is built in');
  });

  it('the mocker at a TP that cannot hold the weights fails first, in the words the worker would use', async () => {
    const o = await run('deployment.fit', deploy({model: 'deepseek-r1', workers: {agg: {tensorParallelSize: 8}}}));
    expect(o.status).toBe('fail');
    expect(o.finding).toContain('deepseek-r1 at tensor parallel 8 needs 78 GiB of weights per GPU');
    expect(o.fix).toContain('use --tensor-parallel-size 16 or more');
  });

  it('skips on a host that runs none of the workers', async () => {
    const d = deploy({model: 'deepseek-r1', hosts: {gpu1: {address: '10.0.0.1'}}, workers: {agg: {hosts: ['gpu1']}}});
    expect(brief(await run('deployment.fit', d))).toEqual({status: 'skip', finding: 'no worker of this deployment runs on this host', fix: undefined});
    expect((await check('deployment.fit').run(ctx(d, {gpu: h100x8}, 'gpu1'))).status).toBe('pass');
  });
});

describe('deployment.fit on real GPUs', () => {
  it('deepseek-r1 does not fit 8 × H100 80GB: it names the GPUs that would hold it', async () => {
    const o = await run('deployment.fit', deploy({model: 'deepseek-r1', engine: 'vllm', workers: {agg: {count: 1}}}), {gpu: h100x8});
    expect(brief(o)).toEqual({
      status: 'fail',
      finding: 'deepseek-r1 (625 GiB of FP8 weights) does not fit 8 × H100 80GB HBM3 (637 GiB)',
      fix: 'use --tp 16 on a host with 16 GPUs like these (or 2 hosts like this one, once a worker can span hosts), or 8 GPUs with ≥ 87.1 GiB each (e.g. 8 × H200 141GB)',
    });
  });

  it('deepseek-r1 at --tp 8 on 8 × H100 fails on memory per GPU, with the same way out', async () => {
    const o = await run('deployment.fit', deploy({model: 'deepseek-r1', engine: 'sglang', workers: {agg: {count: 1, tensorParallelSize: 8}}}), {gpu: h100x8});
    expect(o.status).toBe('fail');
    expect(o.finding).toBe('deepseek-r1 at TP 8 needs 78.4 GiB per GPU (78.1 GiB of weights + KV for 32k tokens); a H100 80GB HBM3 offers 71.7 GiB (90%)');
    expect(o.fix).toContain('8 × H200 141GB');
  });

  it('llama-3.1-70b at --tp 1 on one H100: use --tp 2', async () => {
    const d = deploy({model: 'llama-3.1-70b', engine: 'vllm', workers: {agg: {count: 1, tensorParallelSize: 1}}});
    const one = await run('deployment.fit', d, {gpu: h100x1});
    expect(one.status).toBe('fail');
    expect(one.finding).toBe('llama-3.1-70b at TP 1 needs 142 GiB per GPU (132 GiB of weights + KV for 32k tokens); a H100 80GB HBM3 offers 71.7 GiB (90%)');
    expect(one.fix).toMatch(/^use --tp 2 on a host with 2 GPUs like these, or 1 GPU with ≥ 157 GiB each \(e\.g\. 1 × B200 180GB\)$/);
    // With the GPUs for it, the fix is only the TP.
    expect((await run('deployment.fit', d, {gpu: h100x8})).fix).toBe('use --tp 2 (or more)');
  });

  it('warns when the KV cache is shorter than the context, naming the engine flag and the TP for the full context', async () => {
    const o = await run('deployment.fit', deploy({model: 'llama-3.1-70b', engine: 'vllm', workers: {agg: {count: 1, tensorParallelSize: 2}}}), {gpu: h100x8});
    expect(o.status).toBe('warn');
    expect(o.finding).toMatch(/^llama-3\.1-70b at TP 2 on H100 80GB HBM3: 65\.8 GiB of weights \+ 5\.9 GiB of KV cache per GPU, 3\dk tokens per worker, fewer than its 128k context$/);
    expect(o.fix).toMatch(/^vLLM starts only with --max-model-len ≤ 3\d{4}; for the full context use --tp 4$/);
  });

  it('passes at the smallest TP that fits when none is set, and says to set it', async () => {
    const o = await run('deployment.fit', deploy({model: 'llama-3.1-8b', engine: 'vllm'}), {gpu: h100x8});
    expect(o.status).toBe('pass');
    expect(o.finding).toMatch(/^llama-3\.1-8b at TP 1 \(TP unset: the smallest that fits; set --tp 1\) on H100 80GB HBM3: 15 GiB of weights \+ 56\.\d GiB of KV cache per GPU/);
  });

  it('a real engine on a box without GPUs fails, pointing at the mocker', async () => {
    const o = await run('deployment.fit', deploy({model: 'qwen3-0.6b', engine: 'vllm'}));
    expect(brief(o)).toEqual({
      status: 'fail',
      finding: 'vLLM needs NVIDIA GPUs and this host has none usable (nvidia-smi not found and NVML not loadable)',
      fix: 'run the workers on a GPU machine (workers.<role>.hosts), or try the deployment with --engine mocker, which simulates the GPUs',
    });
  });

  it('judges each disaggregated role at its own TP', async () => {
    const d = deploy({model: 'llama-3.1-70b', engine: 'vllm', disagg: true, workers: {prefill: {tensorParallelSize: 1}, decode: {tensorParallelSize: 4}}});
    const o = await run('deployment.fit', d, {gpu: h100x8});
    expect(o.status).toBe('fail');
    expect(o.finding).toMatch(/^prefill: llama-3\.1-70b at TP 1 needs .*; decode: llama-3\.1-70b at TP 4 on H100/);
    expect(o.fix).toBe('prefill: use --tp 2 (or more)');
  });
});

describe('deployment.gpu-count', () => {
  it('passes when workers × TP fit the GPUs, naming the idle ones', async () => {
    const o = await run('deployment.gpu-count', deploy({model: 'llama-3.1-70b', engine: 'vllm', workers: {agg: {count: 1, tensorParallelSize: 4}}}), {gpu: h100x8});
    expect(brief(o)).toEqual({status: 'pass', finding: '1 agg worker × TP 4 = 4 of 8 GPUs (4 idle)', fix: undefined});
  });

  it('fails when they do not, with the worker count that fits', async () => {
    const o = await run('deployment.gpu-count', deploy({model: 'llama-3.1-70b', engine: 'vllm', workers: {agg: {count: 3, tensorParallelSize: 4}}}), {gpu: h100x8});
    expect(brief(o)).toEqual({
      status: 'fail',
      finding: '3 agg workers × TP 4 need 12 GPUs; this host has 8 (8 × H100 80GB HBM3)',
      fix: 'use --workers 2, or place the others on more hosts (workers.agg.hosts)',
    });
  });

  it('adds up prefill and decode, and needs no GPU for the mocker', async () => {
    const d = deploy({model: 'llama-3.1-8b', engine: 'trtllm', disagg: true, workers: {prefill: {count: 2, tensorParallelSize: 2}, decode: {count: 1, tensorParallelSize: 8}}});
    const o = await run('deployment.gpu-count', d, {gpu: h100x8});
    expect(o.status).toBe('fail');
    expect(o.finding).toBe('2 prefill workers × TP 2 + 1 decode worker × TP 8 need 12 GPUs; this host has 8 (8 × H100 80GB HBM3)');
    expect(o.fix).toContain('lower --prefill-workers / --decode-workers');
    expect((await run('deployment.gpu-count', deploy({model: 'llama-3.1-8b'}))).status).toBe('skip');
  });

  it('a TP larger than the host: the TP that fits here, or deployment.fit when none does', async () => {
    const llama = await run('deployment.gpu-count', deploy({model: 'llama-3.1-70b', engine: 'vllm', workers: {agg: {count: 1, tensorParallelSize: 16}}}), {gpu: h100x8});
    expect(llama.fix).toBe('use --tp 8 (llama-3.1-70b fits from TP 2)');
    const r1 = await run('deployment.gpu-count', deploy({model: 'deepseek-r1', engine: 'vllm', workers: {agg: {count: 1}}}), {gpu: h100x8});
    expect(brief(r1)).toEqual({
      status: 'fail',
      finding: '1 agg worker × TP 16 needs 16 GPUs; this host has 8 (8 × H100 80GB HBM3)',
      fix: 'deepseek-r1 needs more GPUs like these than this host has: see deployment.fit for what holds it',
    });
  });
});

describe('deployment.tp-nvlink', () => {
  it('TP 4 on the A100 box with NVLink pairs warns that each group crosses PCIe, and suggests TP 2', async () => {
    const o = await run('deployment.tp-nvlink', deploy({model: 'llama-3.1-70b', engine: 'vllm', workers: {agg: {count: 1, tensorParallelSize: 4}}}), {gpu: a100Pairs});
    expect(brief(o)).toEqual({
      status: 'warn',
      finding: 'TP 4 on 4 × A100 80GB PCIe in NVLink pairs (0-1, 2-3): agg-0 (GPUs 0-3) crosses PCIe through the CPU',
      fix: 'use --tp 2 with 2 workers (--workers 2): each group then stays on NVLink',
    });
  });

  it('TP 2 there sits on the pairs', async () => {
    const o = await run('deployment.tp-nvlink', deploy({model: 'llama-3.1-70b', engine: 'vllm', workers: {agg: {count: 2, tensorParallelSize: 2}}}), {gpu: a100Pairs});
    expect(brief(o)).toEqual({status: 'pass', finding: 'every TP group sits on NVLink: agg-0 on GPUs 0-1, agg-1 on GPUs 2-3', fix: undefined});
  });

  it('TP 8 on the NVSwitch H100 box passes; TP 1 needs no interconnect', async () => {
    expect((await run('deployment.tp-nvlink', deploy({model: 'deepseek-r1', engine: 'vllm', workers: {agg: {count: 1, tensorParallelSize: 8}}}), {gpu: h100x8})).status).toBe('pass');
    expect((await run('deployment.tp-nvlink', deploy({model: 'qwen3-0.6b', engine: 'vllm', workers: {agg: {count: 1}}}), {gpu: l4})).finding).toBe(
      'TP 1: no tensor-parallel traffic between GPUs',
    );
  });
});

describe('deployment.ports', () => {
  const nginx: PortHolder = {port: 8000, address: '0.0.0.0', pid: 1234, command: 'nginx'};

  it('a port held by another process fails naming its pid and command, with a free port to use', async () => {
    const o = await run('deployment.ports', deploy({model: 'qwen3-0.6b'}), {listeners: [nginx, {port: 8001, address: '::', pid: 77, command: 'python3'}]});
    expect(brief(o)).toEqual({status: 'fail', finding: 'port 8000 (frontend http) is in use by pid 1234 (nginx)', fix: 'stop pid 1234 or use --port 8002'});
    expect(o.data).toMatchObject({taken: [{port: 8000, pid: 1234, command: 'nginx'}]});
  });

  it("a worker's port moves the workers' base port; a holder we cannot see is said so", async () => {
    const o = await run('deployment.ports', deploy({model: 'qwen3-0.6b'}), {listeners: [{port: 8101, address: '127.0.0.1'}]});
    expect(brief(o)).toEqual({
      status: 'fail',
      finding: 'port 8101 (agg-0 metrics) is in use by another process (its owner is not visible: another user, or a container)',
      fix: "stop what holds it or move the workers' ports: workers.basePort 8102 (DYN_WORKERS_BASE_PORT)",
    });
  });

  it('passes when every port is free, and ignores a listener on another address', async () => {
    const o = await run('deployment.ports', deploy({model: 'qwen3-0.6b'}), {listeners: [{...nginx, address: '10.1.2.3'}, {port: 22, address: '0.0.0.0'}]});
    expect(brief(o)).toEqual({status: 'pass', finding: 'ports 8000, 8100, 8101, 8102, 8103 are free', fix: undefined});
  });
});

describe('deployment.engine', () => {
  const python = (answer: Answer) => ({programs: {python3: answer}});
  const notInstalled = python(() => ({
    ok: true,
    code: 1,
    stdout: '',
    stderr: 'Traceback (most recent call last):\n  ...\nimportlib.metadata.PackageNotFoundError: No package metadata was found for vllm\n',
  }));

  it('--engine vllm with no vLLM installed fails with the pip command', async () => {
    const o = await run('deployment.engine', deploy({model: 'qwen3-0.6b', engine: 'vllm'}), notInstalled);
    expect(brief(o)).toEqual({
      status: 'fail',
      finding: 'vllm is not installed for python3',
      fix: 'pip install vllm==0.33.* (the version Dynamo 1.7 pins)',
    });
  });

  it('asks python3 for the version without importing the engine', async () => {
    let asked: string[] = [];
    const installed = (version: string) =>
      run(
        'deployment.engine',
        deploy({model: 'qwen3-0.6b', engine: 'vllm'}),
        python((args) => {
          asked = args;
          return {ok: true, code: 0, stdout: `${version}\n`, stderr: ''};
        }),
      );
    expect(brief(await installed('0.32.1'))).toEqual({
      status: 'warn',
      finding: 'vllm 0.32.1 installed; this build launches and drives vllm 0.33.0',
      fix: 'pip install vllm==0.33.*',
    });
    expect(asked).toEqual(['-c', 'import importlib.metadata as m; print(m.version("vllm"))']);
    expect(brief(await installed('0.33.2'))).toEqual({status: 'pass', finding: 'vllm 0.33.2 installed (the version this build drives)'});
  });

  it('without python3 it says so', async () => {
    expect((await run('deployment.engine', deploy({model: 'qwen3-0.6b', engine: 'trtllm'}))).finding).toBe('python3 not found: trtllm is a Python package');
  });
});

describe('deployment.ucx', () => {
  const ldconfig = (libs: string) => ({programs: {ldconfig: () => ({ok: true, code: 0, stdout: `2 libs found in cache \`/etc/ld.so.cache'\n${libs}`, stderr: ''})}});
  const disagg = deploy({model: 'llama-3.1-8b', engine: 'vllm', disagg: true});

  it('with disaggregation on a real engine, missing UCX warns with the package to install', async () => {
    const o = await run('deployment.ucx', disagg, ldconfig('\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6\n'));
    expect(brief(o)).toEqual({
      status: 'warn',
      finding: 'UCX is not installed (no libucp.so): prefill cannot hand KV to decode through NIXL',
      fix: "apt-get install libucx0 (NIXL's transport)",
    });
  });

  it('finds libucp.so, and skips without disaggregation or on the mocker', async () => {
    const o = await run('deployment.ucx', disagg, ldconfig('\tlibucp.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libucp.so.0\n'));
    expect(o.finding).toBe('UCX found: /lib/x86_64-linux-gnu/libucp.so.0');
    expect((await run('deployment.ucx', deploy({model: 'llama-3.1-8b', engine: 'vllm'}))).status).toBe('skip');
    expect((await run('deployment.ucx', deploy({model: 'llama-3.1-8b', disagg: true}))).status).toBe('skip');
  });
});

describe('deployment.services', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as {port: number}).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('tcpReachable connects to a listening socket and reports a closed one', async () => {
    expect(await tcpReachable('127.0.0.1', port)).toEqual({ok: true});
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as {port: number}).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await tcpReachable('127.0.0.1', closedPort)).toEqual({ok: false, error: 'ECONNREFUSED'});
  });

  it('skips when no etcd is configured, and checks the endpoints when one is', async () => {
    expect((await run('deployment.services', deploy({model: 'qwen3-0.6b'}))).finding).toBe('not configured: workers register in the file store and KV events travel over the request plane, no etcd or NATS needed');
    const up = deploy({model: 'qwen3-0.6b', discovery: {backend: 'etcd', etcdEndpoints: [`http://127.0.0.1:${port}`]}});
    expect((await servicesCheck().run(ctx(up))).status).toBe('pass');
    const down = deploy({model: 'qwen3-0.6b', discovery: {backend: 'etcd', etcdEndpoints: ['http://10.0.0.10:2379']}});
    const o = await servicesCheck(async () => ({ok: false, error: 'EHOSTUNREACH'})).run(ctx(down));
    expect(brief(o)).toEqual({
      status: 'fail',
      finding: 'etcd at http://10.0.0.10:2379 is unreachable: EHOSTUNREACH',
      fix: 'start etcd there or fix discovery.etcdEndpoints (a firewall may block the port)',
    });
  });

  it('with etcd and no endpoints, up runs etcd itself: the program must be installed', async () => {
    const own = deploy({model: 'qwen3-0.6b', discovery: {backend: 'etcd'}});
    const etcd = (ok: boolean) => ({programs: {etcd: () => (ok ? {ok: true, code: 0, stdout: 'etcd Version: 3.4.23\nGit SHA: Not provided\n', stderr: ''} : {ok: false, code: null, stdout: '', stderr: 'spawn etcd ENOENT'})}});
    expect(brief(await run('deployment.services', own, etcd(true)))).toEqual({status: 'pass', finding: 'dynamo up will run etcd itself (etcd Version: 3.4.23)'});
    expect(brief(await run('deployment.services', own, etcd(false)))).toEqual({
      status: 'fail',
      finding: 'discovery.etcdEndpoints is unset, so dynamo up runs etcd itself, and etcd is not installed',
      fix: 'apt-get install etcd-server, or set discovery.etcdEndpoints to an etcd you run',
    });
  });

  it('with the NATS event plane: the server named must answer, or nats-server be installed for up to run', async () => {
    const named = deploy({model: 'qwen3-0.6b', eventPlane: {backend: 'nats', natsUrl: `nats://127.0.0.1:${port}`}});
    expect(brief(await servicesCheck().run(ctx(named)))).toEqual({status: 'pass', finding: `NATS answers at nats://127.0.0.1:${port}`});
    const both = deploy({model: 'qwen3-0.6b', discovery: {backend: 'etcd'}, eventPlane: {backend: 'nats'}});
    const programs = (nats: boolean) => ({
      programs: {
        etcd: () => ({ok: true, code: 0, stdout: 'etcd Version: 3.4.23\n', stderr: ''}),
        'nats-server': () => (nats ? {ok: true, code: 0, stdout: 'nats-server: v2.9.10\n', stderr: ''} : {ok: false, code: null, stdout: '', stderr: 'spawn nats-server ENOENT'}),
      },
    });
    expect(brief(await run('deployment.services', both, programs(true)))).toEqual({status: 'pass', finding: 'dynamo up will run etcd itself (etcd Version: 3.4.23); dynamo up will run NATS itself (nats-server: v2.9.10)'});
    expect(brief(await run('deployment.services', both, programs(false)))).toEqual({
      status: 'fail',
      finding: 'dynamo up will run etcd itself (etcd Version: 3.4.23); eventPlane.natsUrl is unset, so dynamo up runs NATS itself, and nats-server is not installed',
      fix: 'apt-get install nats-server, or set eventPlane.natsUrl to a NATS server you run',
    });
  });
});

describe('sanityDeployment', () => {
  const req = (flags: {flag: string; path: string[]; value: unknown}[]) => ({home: '/h', selfArgv: ['dynamo'], flags, cwd: mkdtempSync(`${tmpdir()}/dyn-sanity-`), env: {}});

  it('without a model there is nothing to judge, but the engine the config names is still told', async () => {
    expect(await sanityDeployment(req([]))).toEqual({skipped: 'no model given: pass --model to check a deployment', engine: 'mocker'});
    expect(await sanityDeployment(req([{flag: '--engine', path: ['engine'], value: 'trtllm'}]))).toEqual({skipped: 'no model given: pass --model to check a deployment', engine: 'trtllm'});
  });

  it('loads a real engine, planned the way `up` would plan it', async () => {
    const d = await sanityDeployment(
      req([
        {flag: '--model', path: ['model'], value: 'llama-3.1-70b'},
        {flag: '--engine', path: ['engine'], value: 'vllm'},
        {flag: '--tensor-parallel-size', path: ['workers', 'agg', 'tensorParallelSize'], value: 4},
      ]),
    );
    if ('skipped' in d) throw new Error(d.skipped);
    expect(d.config.engine).toBe('vllm');
    const w = d.plan.processes.find((p) => p.id === 'agg-0')!;
    expect(w.argv.join(' ')).toContain('worker --engine vllm');
    expect(w.argv.join(' ')).toContain('--tensor-parallel-size 4');
  });
});
