/**
 * The plan's contract with the commands it starts: every argv `dynamo up` would run parses with
 * the real command class (the one the binary dispatches to), strictly, and gives back the values
 * the plan meant. Checked for every config template, every engine, agg and disagg. Services (etcd,
 * NATS) run through `dynamo tether`: its own flags parse strictly, and the real command hands the
 * service its line verbatim (runTethered is stubbed, so nothing starts).
 */
import {runsInWorker} from '../config/engines.js';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Config, Parser, Plugin} from '@oclif/core';
import {afterEach, describe, expect, it, vi} from 'vitest';
import pjson from '../../package.json' with {type: 'json'};
import {loadCommands} from '../commands/index.js';
import {loadConfig} from '../config/load.js';
import {type DynamoConfig, ENGINES} from '../config/schema.js';
import {CONFIG_TEMPLATES, renderTemplate} from '../templates/index.js';
import {nvlinkBox} from '../../test/fixtures/gpu/boxes.js';
import {resolveModel} from '../config/models.js';
import {planEngines} from '../engines/plan.js';
import {parseEngineRun} from '../worker/options.js';
import {type ProcessSpec, planDeployment} from './plan.js';
import {etcdArgv, natsArgv} from './services.js';

/** What `dynamo tether` was asked to run: the real command runs, the program does not. */
const tethered = vi.hoisted(() => [] as {argv: string[]; graceMs: number}[]);
vi.mock('./tether.js', () => ({
  runTethered: async (argv: string[], graceMs: number) => {
    tethered.push({argv, graceMs});
    return 0;
  },
}));

const SELF = ['/usr/local/bin/dynamo'];
const COMMANDS = await loadCommands();
const Tether = (await import('../commands/tether.js')).default;
const RUN_DIR = '/runs/demo';

function loadFrom(text: string, flags: {flag: string; path: string[]; value: unknown}[] = []): DynamoConfig {
  const dir = mkdtempSync(join(tmpdir(), 'dyn-contract-'));
  writeFileSync(join(dir, 'dynamo.config.yaml'), text);
  return loadConfig({cwd: dir, env: {}, flags}).config;
}

/** Parses a process's argv as the binary would: the subcommand, then its flags, strictly. */
async function parseAsBinary(p: ProcessSpec) {
  const [id, ...argv] = p.argv.slice('ssh' in p.host ? 1 : SELF.length);
  const Cmd = COMMANDS[id!];
  expect(Cmd, `${p.id} runs \`dynamo ${id}\`, a registered command`).toBeDefined();
  return (await Parser.parse(argv, {flags: Cmd!.flags, args: Cmd!.args ?? {}, strict: true})).flags as Record<string, unknown>;
}

/** An oclif Config holding the command map, as src/main.ts builds it for the binary. */
async function oclifConfig(): Promise<Config> {
  const root = process.cwd();
  const plugin = new Plugin({root, isRoot: true, pjson: pjson as never, ignoreManifest: true});
  (plugin as unknown as {commandCache: unknown}).commandCache = COMMANDS;
  await plugin.load();
  return Config.load({root, pjson: pjson as never, plugins: new Map([[plugin.name, plugin]])});
}

/** The service line each service is planned with (services.ts), from the config's own values. */
function serviceLine(config: DynamoConfig, id: string): string[] {
  const name = `dynamo-${config.name}`;
  const {discovery: d, eventPlane: e} = config;
  if (id === 'etcd') return etcdArgv({name, dataDir: join(RUN_DIR, 'etcd'), host: d.etcdHost, clientPort: d.etcdPort, peerPort: d.etcdPort + 1});
  expect(id).toBe('nats');
  return natsArgv({name, host: e.natsHost, clientPort: e.natsPort, monitorPort: e.natsPort + 1});
}

/** A service's `dynamo tether … -- PROGRAM …`: tether's flags parse strictly, and the real command runs exactly the service's line. */
async function expectServiceRuns(config: DynamoConfig, p: ProcessSpec): Promise<void> {
  const [id, ...argv] = p.argv.slice(SELF.length);
  expect(id, `${p.id} runs through \`dynamo tether\``).toBe('tether');
  const sep = argv.indexOf('--');
  expect(sep, `${p.id}: its program follows --`).toBeGreaterThan(-1);
  const own = await Parser.parse(argv.slice(0, sep), {flags: Tether.flags, args: Tether.args, strict: true});
  expect(own.argv).toEqual([]);
  tethered.length = 0;
  await new Tether(argv, await oclifConfig()).run();
  process.exitCode = undefined;
  expect(tethered).toEqual([{argv: serviceLine(config, p.id), graceMs: own.flags['grace-ms']}]);
}

/** Each planned process's argv parses, and every value the config sets comes back as the config has it. */
async function expectPlanParses(config: DynamoConfig): Promise<void> {
  // Real engines are planned on made-up 128-GPU NVLink boxes, one per host (enough for DeepSeek-R1 at TP 32).
  const engines = runsInWorker(config.engine) ? undefined : (slots: Parameters<typeof planEngines>[3], restart: Parameters<typeof planEngines>[4]['restart']) => planEngines(config, resolveModel(config.model), new Map(['local', ...Object.keys(config.hosts)].map((h) => [h, {state: 'ok' as const, topology: nvlinkBox(128)}])), slots, {restart});
  const plan = planDeployment(config, {runDir: RUN_DIR, selfArgv: SELF, engines});
  const discoveryDirs = new Set<unknown>();
  for (const p of plan.processes) {
    if (p.role === 'external') {
      await expectServiceRuns(config, p);
      continue;
    }
    // The frontend's API key travels in its environment; the parser reads it from there.
    for (const [k, v] of Object.entries(p.env)) vi.stubEnv(k, v);
    const flags = await parseAsBinary(p);
    vi.unstubAllEnvs();
    discoveryDirs.add(flags.discovery === 'etcd' ? `etcd ${flags['etcd-endpoints']} ${flags.deployment} ${flags['discovery-lease-ttl']}` : flags['discovery-dir']);
    if (p.role === 'worker' && !runsInWorker(config.engine)) {
      // A real engine's worker: its engine's plan travels whole and parses as the worker reads it.
      const run = parseEngineRun(flags['engine-run'] as string);
      expect(run.launch.command).toBe(config.engine === 'sglang' ? 'python3' : config.engine === 'trtllm' ? 'trtllm-serve' : config.engine);
      expect(p.engine?.argv).toEqual([run.launch.command, ...run.launch.args]);
      expect(flags).toMatchObject({engine: config.engine, role: p.workerRole, 'worker-id': p.id, 'rpc-port': p.ports.rpc, 'metrics-port': p.ports.metrics});
      expect(p.ports.engine).toBe(run.launch.port);
      expect(p.readiness.timeoutMs).toBe(config.supervisor.readyTimeoutMs + config.engineOptions.loadTimeoutMs);
    } else if (p.role === 'worker') {
      const m = config.mocker;
      const remote = 'ssh' in p.host ? p.host.ssh.address : undefined;
      expect(flags).toMatchObject({
        engine: config.engine,
        role: p.workerRole,
        model: config.model,
        'worker-id': p.id,
        'rpc-port': p.ports.rpc,
        'metrics-port': p.ports.metrics,
        'block-size': config.router.blockSize,
        'engine-request-limit': config.workers.engineRequestLimit,
        host: remote ?? '127.0.0.1',
        ...(config.engine === 'mocker' ? {'speedup-ratio': m.speedupRatio, 'gpu-memory-gb': m.gpuMemoryGb} : {}),
        'max-num-seqs': m.maxNumSeqs,
        'max-num-batched-tokens': m.maxNumBatchedTokens,
      });
      expect(flags['advertise-host']).toBe(remote);
      if (config.engine === 'mocker') expect(flags['num-gpu-blocks']).toBe(m.numGpuBlocks);
      expect(flags['tensor-parallel-size']).toBe(config.workers[p.workerRole!].tensorParallelSize);
      // Readiness probes the port the worker was told to serve metrics on.
      expect(p.readiness.port).toBe(flags['metrics-port']);
    } else {
      const r = config.router;
      expect(flags).toMatchObject({
        host: config.frontend.host,
        port: config.frontend.port,
        model: config.model,
        'router-mode': r.mode,
        'router-block-size': r.blockSize,
        'router-kv-overlap-score-weight': r.overlapWeight,
        'router-temperature': r.temperature,
        'router-kv-events': r.kvEvents,
        'router-ttl-secs': r.ttlSecs,
        'router-max-tree-size': r.maxTreeSize,
        'router-prune-target-ratio': r.pruneTargetRatio,
        'router-queue-threshold': r.queueThreshold,
        'busy-max-inflight': r.busyMaxInflight,
        'busy-kv-usage': r.busyKvUsage,
        'body-limit-mb': config.frontend.bodyLimitMb,
        'migration-limit': config.frontend.migrationLimit,
        'admission-control': config.frontend.admissionControl,
        'overload-status-code': String(config.frontend.overloadStatusCode),
        'pre-touch-mb': config.frontend.preTouchMb,
      });
      expect(flags['migration-max-seq-len']).toBe(config.frontend.migrationMaxSeqLen);
      expect(flags['api-key']).toBe(config.frontend.apiKey);
      expect(p.ports.http).toBe(flags.port);
    }
  }
  // Workers register where the frontend looks.
  const d = config.discovery;
  const where = d.backend === 'file' ? join(RUN_DIR, 'discovery') : `etcd ${(d.etcdEndpoints ?? [`http://${d.etcdHost}:${d.etcdPort}`]).join(',')} ${config.name} ${d.leaseTtlS}`;
  expect([...discoveryDirs]).toEqual([where]);
}

describe('the plan and the commands it starts', () => {
  afterEach(() => vi.unstubAllEnvs());

  for (const template of Object.keys(CONFIG_TEMPLATES)) {
    for (const engine of ENGINES) {
      for (const disagg of [false, true]) {
        it(`template ${template}, engine ${engine}, ${disagg ? 'disagg' : 'agg'}: every process's argv parses with its real command`, async () => {
          const text = renderTemplate(template, {name: 'demo', model: 'deepseek-r1', engine});
          await expectPlanParses(loadFrom(text, [{flag: '--disagg', path: ['disagg'], value: disagg}]));
          // Real engines refuse a TP whose GPUs cannot hold the weights (DeepSeek-R1: 671 GB).
          const tp = (engine === 'mocker' ? [1, 2] : [16, 32]).map((n) => ({flag: '--tensor-parallel-size', path: ['workers', disagg ? 'decode' : 'agg', 'tensorParallelSize'], value: n}));
          for (const f of tp) await expectPlanParses(loadFrom(text, [{flag: '--disagg', path: ['disagg'], value: disagg}, f]));
        });
      }
    }
  }

  it('values away from every default reach the frontend and the workers as the config has them', async () => {
    const config = loadFrom(
      [
        'model: deepseek-r1',
        'frontend: {host: 0.0.0.0, port: 9000, bodyLimitMb: 7, apiKey: s3cret, migrationLimit: 3, migrationMaxSeqLen: 4096, overloadStatusCode: 503, preTouchMb: 64}',
        'router: {mode: random, blockSize: 32, overlapWeight: 0.5, temperature: 0.25, kvEvents: false, ttlSecs: 30, maxTreeSize: 4096, pruneTargetRatio: 0.5, queueThreshold: 0, busyMaxInflight: 8, busyKvUsage: 0.9}',
        'mocker: {speedupRatio: 0, gpuMemoryGb: 40, numGpuBlocks: 512, maxNumSeqs: 64, maxNumBatchedTokens: 2048}',
        'workers: {basePort: 9100, engineRequestLimit: 12, agg: {count: 3, tensorParallelSize: 2}}',
      ].join('\n'),
    );
    await expectPlanParses(config);
    await expectPlanParses({...config, mocker: {...config.mocker, speedupRatio: 2.5}, router: {...config.router, kvEvents: true}});
  });

  it('etcd discovery: every role is pointed at the same etcd; with none given, up runs one first', async () => {
    const own = loadFrom('model: deepseek-r1\ndiscovery: {backend: etcd, etcdPort: 23790, leaseTtlS: 4}\n');
    await expectPlanParses(own);
    const plan = planDeployment(own, {runDir: RUN_DIR, selfArgv: SELF});
    const etcd = plan.processes[0]!;
    expect(etcd).toMatchObject({id: 'etcd', role: 'external', ports: {client: 23790, peer: 23791}, readiness: {port: 23790, httpPath: '/health'}});
    expect(etcd.argv.slice(0, 6)).toEqual([...SELF, 'tether', '--grace-ms', '5000', '--', 'etcd']);
    expect(etcd.argv).toContain(join(RUN_DIR, 'etcd'));
    expect(plan.processes.filter((p) => p.role === 'worker').every((w) => w.dependsOn.includes('etcd'))).toBe(true);
    const given = loadFrom('model: deepseek-r1\ndiscovery: {backend: etcd, etcdEndpoints: [http://10.0.0.10:2379, http://10.0.0.11:2379]}\n');
    await expectPlanParses(given);
    expect(planDeployment(given, {runDir: RUN_DIR, selfArgv: SELF}).processes.map((p) => p.id)).not.toContain('etcd');
  });

  it('NATS event plane: every role is pointed at the same NATS and namespace; with none given, up runs one first', async () => {
    const own = loadFrom('model: deepseek-r1\nname: ev\ndiscovery: {backend: etcd}\neventPlane: {backend: nats, natsPort: 42220}\n');
    await expectPlanParses(own);
    const plan = planDeployment(own, {runDir: RUN_DIR, selfArgv: SELF});
    expect(plan.processes.map((p) => p.id).slice(0, 2)).toEqual(['etcd', 'nats']);
    const nats = plan.processes[1]!;
    expect(nats).toMatchObject({role: 'external', ports: {client: 42220, monitor: 42221}, readiness: {port: 42221, httpPath: '/healthz'}});
    expect(nats.argv.slice(0, 6)).toEqual([...SELF, 'tether', '--grace-ms', '5000', '--', 'nats-server']);
    const roles = plan.processes.filter((p) => p.role !== 'external');
    for (const p of roles) {
      const flags = await parseAsBinary(p);
      expect([flags['event-plane'], flags['nats-url'], flags.deployment]).toEqual(['nats', 'nats://127.0.0.1:42220', 'ev']);
    }
    expect(roles.filter((p) => p.role === 'worker').every((w) => w.dependsOn.includes('nats') && w.dependsOn.includes('etcd'))).toBe(true);
    // With the file store, the namespace comes with the event plane's own flags.
    const file = loadFrom('model: deepseek-r1\nname: ev2\neventPlane: {backend: nats, natsUrl: "nats://10.0.0.10:4222"}\n');
    const filePlan = planDeployment(file, {runDir: RUN_DIR, selfArgv: SELF});
    expect(filePlan.processes.map((p) => p.id)).not.toContain('nats');
    expect(await parseAsBinary(filePlan.processes.find((p) => p.id === 'frontend')!)).toMatchObject({'event-plane': 'nats', 'nats-url': 'nats://10.0.0.10:4222', deployment: 'ev2'});
  });
});
