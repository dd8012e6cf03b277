import {describe, expect, it} from 'vitest';
import {configSchema} from '../config/schema.js';
import {planDeployment, redactPlan, startWaves} from './plan.js';

const inputs = {runDir: '/runs/demo', selfArgv: ['/usr/local/bin/dynamo']};
const plan = (cfg: Record<string, unknown>) => planDeployment(configSchema.parse({model: 'deepseek-r1', ...cfg}), inputs);

describe('planDeployment', () => {
  for (const n of [1, 3, 8]) {
    it(`aggregated with ${n} worker(s): one frontend after ${n} workers, distinct ports, own logs`, () => {
      const p = plan({workers: {agg: {count: n}}});
      const workers = p.processes.filter((x) => x.role === 'worker');
      expect(workers.map((w) => w.id)).toEqual(Array.from({length: n}, (_, i) => `agg-${i}`));
      const frontend = p.processes.find((x) => x.id === 'frontend')!;
      expect(frontend.dependsOn).toEqual(workers.map((w) => w.id));
      // A crashed frontend restarts like a worker (the workers keep their caches).
      expect(frontend.restart).toEqual(workers[0]!.restart);
      const ports = p.processes.flatMap((x) => Object.values(x.ports));
      expect(new Set(ports).size).toBe(ports.length);
      expect(new Set(p.processes.map((x) => x.logFile)).size).toBe(n + 1);
      for (const w of workers) {
        expect(w.argv.slice(0, 8)).toEqual(['/usr/local/bin/dynamo', 'worker', '--engine', 'mocker', '--role', 'agg', '--model', 'deepseek-r1']);
        expect(w.readiness).toMatchObject({address: '127.0.0.1', port: w.ports.metrics, httpPath: '/health'});
        expect(w.restart.maxRestarts).toBe(5);
        expect(w.env.DYN_PROCESS_ID).toBe(w.id);
      }
      expect(startWaves(p.processes).map((w) => w.map((x) => x.id))).toEqual([workers.map((w) => w.id), ['frontend']]);
    });

    it(`disaggregated with ${n} prefill and ${n} decode workers`, () => {
      const p = plan({disagg: true, workers: {prefill: {count: n}, decode: {count: n}}});
      const roles = p.processes.filter((x) => x.role === 'worker').map((x) => x.workerRole);
      expect(roles.filter((r) => r === 'prefill')).toHaveLength(n);
      expect(roles.filter((r) => r === 'decode')).toHaveLength(n);
      expect(roles).not.toContain('agg');
      const ports = p.processes.flatMap((x) => Object.values(x.ports));
      expect(new Set(ports).size).toBe(ports.length);
      expect(p.processes.find((x) => x.id === 'decode-0')!.argv).toContain('decode');
    });
  }

  it('places workers round-robin over SSH hosts and runs the remote binary there', () => {
    const p = plan({
      hosts: {gpu1: {address: '10.0.0.1', user: 'ops', dynamoPath: '/opt/dynamo'}, gpu2: {address: '10.0.0.2'}},
      workers: {agg: {count: 3, hosts: ['gpu1', 'gpu2']}},
    });
    const hosts = p.processes.filter((x) => x.role === 'worker').map((x) => x.host.name);
    expect(hosts).toEqual(['gpu1', 'gpu2', 'gpu1']);
    const w0 = p.processes[0]!;
    expect(w0.argv[0]).toBe('/opt/dynamo');
    expect(w0.readiness.address).toBe('10.0.0.1');
    expect(p.processes[1]!.argv[0]).toBe('dynamo');
  });

  it('rejects a worker host that is not defined', () => {
    expect(() => plan({workers: {agg: {hosts: ['gpu9']}}})).toThrow(/names host "gpu9", which is not defined under "hosts"/);
  });

  it('rejects overlapping ports', () => {
    expect(() => plan({frontend: {port: 8102}, workers: {basePort: 8100, agg: {count: 2}}})).toThrow(/port 8102 on local is used twice/);
  });

  it('needs at least one worker of each serving role', () => {
    expect(() => plan({disagg: true, workers: {prefill: {count: 0}}})).toThrow(/at least one prefill worker/);
  });

  it('passes each role its tensor parallel size, and none when it is left to the worker', () => {
    const p = plan({disagg: true, workers: {prefill: {count: 1, tensorParallelSize: 2}, decode: {count: 2, tensorParallelSize: 8}}});
    const tpOf = (id: string) => {
      const argv = p.processes.find((x) => x.id === id)!.argv;
      const i = argv.indexOf('--tensor-parallel-size');
      return i < 0 ? undefined : argv[i + 1];
    };
    expect([tpOf('prefill-0'), tpOf('decode-0'), tpOf('decode-1')]).toEqual(['2', '8', '8']);
    expect(plan({}).processes.filter((x) => x.role === 'worker').every((w) => !w.argv.includes('--tensor-parallel-size'))).toBe(true);
  });

  it('sets the runtime of serving processes (memory kept, JIT tiers sooner), unless the user set a variable; a GPU engine never inherits it', () => {
    const of = (p: ReturnType<typeof plan>, name: string) => Object.fromEntries(p.processes.map((x) => [x.id, x.env[name]]));
    const purge = (p: ReturnType<typeof plan>) => of(p, 'MIMALLOC_PURGE_DELAY');
    const ftl = (p: ReturnType<typeof plan>) => of(p, 'BUN_JSC_thresholdForFTLOptimizeAfterWarmUp');
    const two = plan({workers: {agg: {count: 2}}});
    expect(purge(two)).toEqual({'agg-0': '-1', 'agg-1': '-1', frontend: '-1'});
    expect(ftl(two)).toEqual({'agg-0': '3000', 'agg-1': '3000', frontend: '3000'});
    const own = planDeployment(configSchema.parse({model: 'deepseek-r1'}), {...inputs, env: {MIMALLOC_PURGE_DELAY: '100', BUN_JSC_thresholdForFTLOptimizeAfterWarmUp: '500'}});
    expect(purge(own)).toEqual({'agg-0': undefined, frontend: undefined});
    expect(ftl(own)).toEqual({'agg-0': undefined, frontend: undefined});
    expect(of(own, 'BUN_JSC_thresholdForOptimizeAfterWarmUp')).toEqual({'agg-0': '100', 'agg-1': '100', frontend: '100'});
    const vllm = planDeployment(configSchema.parse({model: 'deepseek-r1', engine: 'vllm'}), inputs);
    expect(purge(vllm)).toEqual({'agg-0': undefined, frontend: '-1'});
    expect(ftl(vllm)).toEqual({'agg-0': undefined, frontend: '3000'});
  });

  it('keeps the API key out of argv and masks it when printed', () => {
    const p = plan({frontend: {apiKey: 's3cret'}});
    const f = p.processes.find((x) => x.id === 'frontend')!;
    expect(f.argv.join(' ')).not.toContain('s3cret');
    expect(f.env.DYN_FRONTEND_API_KEY).toBe('s3cret');
    expect(JSON.stringify(redactPlan(p))).not.toContain('s3cret');
  });

  it('never emits worker argv the worker cannot parse: engine arguments go to real engines only, inside their launch', () => {
    expect(() => plan({workers: {agg: {count: 1, engineArgs: ['--gpu-memory-utilization', '0.9']}}})).toThrow(/the mocker takes no engine arguments/);
    // A config built without the schema still gets no `--` passthrough the worker would reject.
    const config = configSchema.parse({model: 'deepseek-r1'});
    const p = planDeployment({...config, workers: {...config.workers, agg: {...config.workers.agg, engineArgs: ['--gpu-memory-utilization', '0.9']}}}, inputs);
    for (const w of p.processes.filter((x) => x.role === 'worker')) expect(w.argv).not.toContain('--');
  });

  it('workers on SSH hosts: advertised at the host\'s advertiseAddress; up\'s own etcd must listen where they reach it', () => {
    const hosts = {gpu1: {address: 'gpu1.ssh.example', advertiseAddress: '10.0.0.11'}};
    const remote = {model: 'deepseek-r1', hosts, workers: {agg: {count: 1, hosts: ['gpu1']}}};
    const w = plan(remote).processes.find((p) => p.id === 'agg-0')!;
    expect(w.argv.join(' ')).toContain('--host 10.0.0.11 --advertise-host 10.0.0.11');
    expect(w.readiness.address).toBe('10.0.0.11');
    expect(() => plan({...remote, discovery: {backend: 'etcd'}})).toThrow(/cannot reach the etcd dynamo up runs on this machine's loopback address/);
    const p = plan({...remote, discovery: {backend: 'etcd', etcdHost: '10.0.0.10', etcdPort: 2379}});
    expect(p.processes[0]!.argv).toContain('http://10.0.0.10:2379');
    expect(p.processes.find((x) => x.id === 'agg-0')!.argv.join(' ')).toContain('--etcd-endpoints http://10.0.0.10:2379');
    expect(() => plan({...remote, discovery: {backend: 'etcd', etcdHost: '10.0.0.10'}, eventPlane: {backend: 'nats'}})).toThrow(/cannot reach the NATS dynamo up runs on this machine's loopback address/);
    const withNats = plan({...remote, discovery: {backend: 'etcd', etcdHost: '10.0.0.10'}, eventPlane: {backend: 'nats', natsHost: '10.0.0.10'}});
    expect(withNats.processes.find((x) => x.id === 'agg-0')!.argv.join(' ')).toContain('--event-plane nats --nats-url nats://10.0.0.10:4222');
  });

  it('refuses admission control without the router queue it bounds', () => {
    expect(() => plan({frontend: {admissionControl: 'token-capacity'}, router: {mode: 'round-robin'}})).toThrow('frontend.admissionControl token-capacity needs the router queue');
    expect(() => plan({frontend: {admissionControl: 'token-capacity'}, router: {queueThreshold: 0}})).toThrow('needs the router queue');
    expect(plan({frontend: {admissionControl: 'token-capacity'}}).processes.at(-1)!.argv).toEqual(expect.arrayContaining(['--admission-control', 'token-capacity', '--overload-status-code', '529']));
  });
});
