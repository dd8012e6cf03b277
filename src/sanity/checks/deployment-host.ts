/**
 * What this host must offer the plan besides GPUs:
 * - deployment.ports: every port the plan's processes here listen on is free; a taken one names
 *   its holder (facts.listeners) and a free port to move to.
 * - deployment.engine: the engine's Python package is installed (importlib.metadata, no import of
 *   the package itself: vLLM takes seconds to import), against the version Dynamo 1.7 pins; and
 *   whether this build can drive it yet.
 * - deployment.ucx: with disaggregation on a real engine, UCX (NIXL's transport) is installed.
 * - deployment.services: the etcd and NATS the config names accept a TCP connection, or the
 *   programs `dynamo up` would run itself are installed.
 */
import {connect} from 'node:net';
import {llamaAddon, llamaUnavailable, missingCpuFeatures} from '../../engines/llamacpp/native.js';
import type {Check, CheckOutcome, PortHolder, SanityContext} from '../check.js';
import type {ProcessSpec} from '../../supervisor/plan.js';
import {AVAILABLE_ENGINES} from '../../config/not-yet.js';
import {ENGINE_PACKAGES, needsGpus} from '../engines.js';
import {NO_DEPLOYMENT} from './deployment-context.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '*', '']);
/** Two binds clash when either is a wildcard or both name the same address. */
const clash = (a: string, b: string) => WILDCARDS.has(a) || WILDCARDS.has(b) || a === b;

/** The address a process binds: the frontend's host, a local worker's loopback, a remote worker's wildcard. */
function bindAddress(p: ProcessSpec): string {
  const i = p.argv.indexOf('--host');
  return i >= 0 ? p.argv[i + 1]! : '127.0.0.1';
}

interface Taken {
  port: number;
  use: string;
  holder: PortHolder;
}

function holderWords(h: PortHolder): string {
  if (h.pid === undefined) return 'another process (its owner is not visible: another user, or a container)';
  return `pid ${h.pid}${h.command ? ` (${h.command})` : ''}`;
}

/** The first port from `from` that nothing here listens on and the plan does not use. */
function freePort(from: number, listeners: PortHolder[], used: ReadonlySet<number>, span = 1): number {
  const busy = new Set(listeners.map((l) => l.port));
  for (let p = from; p + span - 1 <= 65535; p++) {
    let ok = true;
    for (let k = 0; k < span && ok; k++) ok = !busy.has(p + k) && !used.has(p + k);
    if (ok) return p;
  }
  return from;
}

function portFix(t: Taken, here: ProcessSpec[], listeners: PortHolder[], basePort: number): string {
  const stop = t.holder.pid !== undefined ? `stop pid ${t.holder.pid}` : 'stop what holds it';
  const dynamo = /dynamo/i.test(t.holder.command ?? '') ? ' (a running deployment? see `dynamo ps`, then `dynamo down <name>`)' : '';
  if (t.use.startsWith('frontend')) {
    const used = new Set(here.flatMap((p) => Object.values(p.ports)));
    return `${stop}${dynamo} or use --port ${freePort(t.port + 1, listeners, used)}`;
  }
  const workers = here.filter((p) => p.role === 'worker');
  const frontend = new Set(here.filter((p) => p.role !== 'worker').flatMap((p) => Object.values(p.ports)));
  const span = 2 * Math.max(1, workers.length);
  return `${stop}${dynamo} or move the workers' ports: workers.basePort ${freePort(basePort + 2, listeners, frontend, span)} (DYN_WORKERS_BASE_PORT)`;
}

const ports: Check = {
  id: 'deployment.ports',
  area: 'deployment',
  title: 'Ports free',
  async run(ctx) {
    const d = ctx.deployment;
    if (!d) return NO_DEPLOYMENT;
    const here = d.plan.processes.filter((p) => p.host.name === ctx.host);
    const wanted = here.flatMap((p) => Object.entries(p.ports).map(([name, port]) => ({port, use: `${p.id} ${name}`, address: bindAddress(p)})));
    if (!wanted.length) return {status: 'skip', finding: `no process of this deployment listens on ${ctx.host === 'local' ? 'this host' : ctx.host}`};
    const listeners = await ctx.facts.listeners();
    const taken: Taken[] = wanted.flatMap((w) => {
      const holder = listeners.find((l) => l.port === w.port && clash(l.address, w.address));
      return holder ? [{port: w.port, use: w.use, holder}] : [];
    });
    const list = wanted.map((w) => w.port).sort((a, b) => a - b);
    if (!taken.length) return {status: 'pass', finding: list.length === 1 ? `port ${list[0]} is free` : `ports ${list.join(', ')} are free`, data: {ports: list}};
    const findings = taken.map((t) => `port ${t.port} (${t.use}) is in use by ${holderWords(t.holder)}`);
    const fixes = [...new Set(taken.map((t) => portFix(t, here, listeners, d.config.workers.basePort)))];
    return {
      status: 'fail',
      finding: findings.join('; '),
      fix: fixes.join('; '),
      data: {ports: list, taken: taken.map((t) => ({port: t.port, use: t.use, pid: t.holder.pid, command: t.holder.command}))},
    };
  },
};

/** How long python3 may take to name a package's version. */
const PYTHON_TIMEOUT_MS = 3000;

const notYet = (engine: string) => `this build cannot drive ${engine} yet (\`dynamo up\` runs --engine ${AVAILABLE_ENGINES.join(' or ')})`;
const drivable = (engine: string) => AVAILABLE_ENGINES.includes(engine);

const engineCheck: Check = {
  id: 'deployment.engine',
  area: 'deployment',
  title: 'Engine installed',
  // Python starts in ~50 ms, but on a loaded 2-core machine it has taken over a second.
  timeoutMs: PYTHON_TIMEOUT_MS + 500,
  async run(ctx) {
    const d = ctx.deployment;
    if (!d) return NO_DEPLOYMENT;
    const {engine} = d.config;
    if (engine === 'mocker') return {status: 'pass', finding: 'the mocker is built in'};
    if (engine === 'llamacpp') {
      const cpu = missingCpuFeatures();
      if (!llamaAddon) return {status: 'fail', finding: `llama.cpp is not in this build: ${llamaUnavailable}`, fix: 'use a dynamo built for linux x64 (npm run build)'};
      if (cpu.length) return {status: 'fail', finding: `this CPU lacks ${cpu.join(', ')}, which the built-in llama.cpp needs`, fix: 'run llamacpp workers on an x86-64 CPU with AVX2, FMA and F16C'};
      return {status: 'pass', finding: 'llama.cpp is built in (CPU: AVX2, FMA, F16C present)'};
    }
    const pkg = needsGpus(engine) ? ENGINE_PACKAGES[engine] : undefined;
    if (!pkg) return {status: 'warn', finding: `engine ${engine}: ${notYet(engine)}`, fix: 'use --engine mocker'};
    const r = await ctx.facts.run('python3', ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(pkg.dist)}))`], PYTHON_TIMEOUT_MS);
    const data = {engine, package: pkg.dist, pin: pkg.pin};
    if (!r.ok && r.code === null && /ENOENT|not found/i.test(r.stderr)) {
      return {status: 'fail', finding: `python3 not found: ${engine} is a Python package`, fix: `install Python 3.10+, then ${pkg.install}`, data};
    }
    if (!r.ok) return {status: 'warn', finding: `could not ask python3 for ${pkg.dist}: ${r.stderr.trim().split('\n').pop() || 'no answer'}`, fix: `run python3 -m pip show ${pkg.dist}`, data};
    const version = r.stdout.trim();
    if (r.code !== 0 || !version) {
      const missing = /PackageNotFoundError|No package metadata/.test(r.stderr);
      return {
        status: 'fail',
        finding: missing ? `${engine} is not installed for python3${drivable(engine) ? '' : `; ${notYet(engine)}`}` : `python3 could not read ${pkg.dist}'s version: ${r.stderr.trim().split('\n').pop()}`,
        fix: `${pkg.install} (the version Dynamo 1.7 pins)`,
        data,
      };
    }
    const pinned = pkg.accepts.test(version);
    if (!drivable(engine)) {
      return {
        status: 'warn',
        finding: `${engine} ${version} installed${pinned ? '' : ` (Dynamo 1.7 pins ${pkg.pin})`}; ${notYet(engine)}`,
        fix: `${pinned ? '' : `${pkg.install}; `}until this build drives ${engine}, use --engine ${AVAILABLE_ENGINES.join(' or ')}`,
        data: {...data, version},
      };
    }
    // The launch lines and hand-offs follow the pinned release; another may name flags differently.
    if (!pinned) return {status: 'warn', finding: `${engine} ${version} installed; this build launches and drives ${engine} ${pkg.pin}`, fix: pkg.install, data: {...data, version}};
    return {status: 'pass', finding: `${engine} ${version} installed (the version this build drives)`, data: {...data, version}};
  },
};

const ucx: Check = {
  id: 'deployment.ucx',
  area: 'deployment',
  title: 'UCX for KV transfer',
  async run(ctx) {
    const d = ctx.deployment;
    if (!d) return NO_DEPLOYMENT;
    if (!d.config.disagg) return {status: 'skip', finding: 'aggregated serving moves no KV between workers'};
    if (!needsGpus(d.config.engine)) return {status: 'skip', finding: `the ${d.config.engine} moves no KV between GPUs: UCX is not needed`};
    let r = await ctx.facts.run('ldconfig', ['-p']);
    if (!r.ok) r = await ctx.facts.run('/sbin/ldconfig', ['-p']);
    if (!r.ok) return {status: 'warn', finding: 'cannot list shared libraries (ldconfig not found)', fix: 'check that libucp.so is installed (apt-get install libucx0): NIXL moves KV with it'};
    const line = r.stdout.split('\n').find((l) => /\blibucp\.so/.test(l));
    if (line) return {status: 'pass', finding: `UCX found: ${line.split('=>').pop()!.trim()}`};
    return {status: 'warn', finding: 'UCX is not installed (no libucp.so): prefill cannot hand KV to decode through NIXL', fix: "apt-get install libucx0 (NIXL's transport)"};
  },
};

/** Whether host:port accepts a TCP connection within `timeoutMs`; the error when not. */
export function tcpReachable(host: string, port: number, timeoutMs = 500): Promise<{ok: true} | {ok: false; error: string}> {
  return new Promise((resolve) => {
    const socket = connect({host, port});
    const done = (r: {ok: true} | {ok: false; error: string}) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ok: false, error: `no answer within ${timeoutMs} ms`}));
    socket.once('connect', () => done({ok: true}));
    socket.once('error', (e: NodeJS.ErrnoException) => done({ok: false, error: e.code ?? e.message}));
  });
}

export type Reach = typeof tcpReachable;

/** One service the plan needs: run by `dynamo up` (its program must be here) or named (it must answer). */
interface ServiceNeed {
  name: string;
  program: string;
  /** Where the config points; empty: `dynamo up` runs it. */
  urls: string[];
  defaultPort: number;
  install: string;
  key: string;
  /** "an etcd you run": what the key would point to. */
  yours: string;
}

function servicesNeeded(d: NonNullable<SanityContext['deployment']>): ServiceNeed[] {
  const out: ServiceNeed[] = [];
  const c = d.config;
  if (c.discovery.backend === 'etcd') out.push({name: 'etcd', program: 'etcd', urls: c.discovery.etcdEndpoints ?? [], defaultPort: 2379, install: 'apt-get install etcd-server', key: 'discovery.etcdEndpoints', yours: 'an etcd you run'});
  if (c.eventPlane.backend === 'nats') out.push({name: 'NATS', program: 'nats-server', urls: c.eventPlane.natsUrl ? c.eventPlane.natsUrl.split(',') : [], defaultPort: 4222, install: 'apt-get install nats-server', key: 'eventPlane.natsUrl', yours: 'a NATS server you run'});
  return out;
}

async function judgeService(ctx: SanityContext, need: ServiceNeed, reach: Reach): Promise<CheckOutcome> {
  if (!need.urls.length) {
    // `dynamo up` runs it itself: the program must be here (its port is judged with the others).
    const found = await ctx.facts.run(need.program, ['--version'], 2000);
    return found.ok && found.code === 0
      ? {status: 'pass', finding: `dynamo up will run ${need.name} itself (${(found.stdout || found.stderr).split('\n')[0]?.trim()})`}
      : {status: 'fail', finding: `${need.key} is unset, so dynamo up runs ${need.name} itself, and ${need.program} is not installed`, fix: `${need.install}, or set ${need.key} to ${need.yours}`};
  }
  const results = await Promise.all(
    need.urls.map(async (url) => {
      const u = new URL(url.trim());
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : need.defaultPort));
      return {url: url.trim(), ...(await reach(u.hostname.replace(/^\[|\]$/g, ''), port))};
    }),
  );
  const down = results.filter((r) => !r.ok);
  if (!down.length) return {status: 'pass', finding: `${need.name} answers at ${need.urls.join(', ')}`, data: {endpoints: need.urls}};
  return {
    status: 'fail',
    finding: down.map((r) => `${need.name} at ${r.url} is unreachable: ${'error' in r ? r.error : ''}`).join('; '),
    fix: `start ${need.name} there or fix ${need.key} (a firewall may block the port)`,
    data: {endpoints: need.urls, unreachable: down.map((r) => r.url)},
  };
}

/** The services check with its connector injected (tests pass a fake; the suite gets tcpReachable). */
export function servicesCheck(reach: Reach = tcpReachable): Check {
  return {
    id: 'deployment.services',
    area: 'deployment',
    title: 'etcd and NATS reachable',
    async run(ctx: SanityContext): Promise<CheckOutcome> {
      const d = ctx.deployment;
      if (!d) return NO_DEPLOYMENT;
      const needs = servicesNeeded(d);
      if (!needs.length) return {status: 'skip', finding: 'not configured: workers register in the file store and KV events travel over the request plane, no etcd or NATS needed'};
      const outcomes = await Promise.all(needs.map((n) => judgeService(ctx, n, reach)));
      if (outcomes.length === 1) return outcomes[0]!;
      const failed = outcomes.filter((o) => o.status === 'fail');
      return {
        status: failed.length ? 'fail' : 'pass',
        finding: outcomes.map((o) => o.finding).join('; '),
        ...(failed.length ? {fix: failed.map((o) => o.fix).join('; ')} : {}),
      };
    },
  };
}

export const deploymentHostChecks: Check[] = [ports, engineCheck, ucx, servicesCheck()];
