/**
 * Whether this host's GPUs can carry the plan's workers, three questions over the model's figures
 * (config/models.ts), the fit rule (engines/mocker/capacity.ts) and the GPU topology:
 * - deployment.fit: each worker's GPUs hold its weight share and a useful KV cache
 *   (`minKvTokens`, deployment-context.ts) within 90% of their memory. The mocker simulates its
 *   GPUs, so it is judged on those (no GPU needed here); a real engine with no GPU fails.
 * - deployment.gpu-count: the workers here × their TP fit in the GPUs here (real engines).
 * - deployment.tp-nvlink: each TP group can sit on GPUs joined by NVLink (the best placement, from
 *   gpu/groups.ts); a group that must cross PCIe or the CPU interconnect warns, naming its GPUs.
 */
import type {ModelInfo} from '../../config/models.js';
import type {DynamoConfig} from '../../config/schema.js';
import {DEFAULT_UTILIZATION, fitAtTp, kvCapacity, minTensorParallel, weightBytes} from '../../engines/mocker/capacity.js';
import type {Check, CheckOutcome, CheckStatus, SanityContext, SanityDeployment} from '../check.js';
import {bestTpGroups, describeGpus, indexList, nvlinkGroups, shortGpuName, type TpGroup} from '../gpu/verdicts.js';
import type {GpuTopology, P2PKind} from '../gpu/topology.js';
import {engineName} from '../engines.js';
import {formatBytes} from '../params.js';
import {
  NO_DEPLOYMENT,
  type RoleGroup,
  countFlag,
  gpuMemoryBytes,
  minKvTokens,
  modelOf,
  needsGpus,
  noWorkersHere,
  roleGroupsHere,
  roleTp,
  tokens,
  workersOf,
  worst,
} from './deployment-context.js';

/** Each engine's flag for the longest request it accepts. */
const MAX_LEN_FLAG: Record<string, string> = {vllm: '--max-model-len', sglang: '--context-length', trtllm: '--max_seq_len'};
/** GPUs to suggest when these are too small: name and usable GiB (as NVML reports them). */
const LARGER_GPUS: [string, number][] = [
  ['H100 80GB', 79.6],
  ['H200 141GB', 140.4],
  ['B200 180GB', 178],
  ['B300 288GB', 268],
];

type Judged = {status: CheckStatus; text: string; fix?: string; data?: Record<string, unknown>};
type Setting = {ctx: SanityContext; d: SanityDeployment; model: ModelInfo; groups: RoleGroup[]};

/** Runs `judge` with the deployment, its model and this host's workers, or says why there is nothing to judge. */
function onWorkersHere(judge: (s: Setting) => Promise<CheckOutcome>): Check['run'] {
  return async (ctx) => {
    const d = ctx.deployment;
    if (!d) return NO_DEPLOYMENT;
    const groups = roleGroupsHere(ctx, d);
    if (!groups.length) return noWorkersHere(ctx);
    const m = modelOf(d.config);
    if ('outcome' in m) return m.outcome;
    return judge({ctx, d, model: m.model, groups});
  };
}

/** One outcome from per-role verdicts; roles with the same words share a line. */
function combine(parts: {roles: string[]; v: Judged}[]): CheckOutcome {
  const merged: {roles: string[]; v: Judged}[] = [];
  for (const p of parts) {
    const same = merged.find((m) => m.v.text === p.v.text && m.v.fix === p.v.fix);
    if (same) same.roles.push(...p.roles);
    else merged.push({roles: [...p.roles], v: p.v});
  }
  const label = (m: (typeof merged)[number]) => (merged.length > 1 ? `${m.roles.join(', ')}: ` : '');
  const fixes = merged.filter((m) => m.v.fix).map((m) => `${label(m)}${m.v.fix}`);
  return {
    status: worst(merged.map((m) => m.v.status)),
    finding: merged.map((m) => `${label(m)}${m.v.text}`).join('; '),
    ...(fixes.length ? {fix: fixes.join('; ')} : {}),
    data: Object.fromEntries(merged.flatMap((m) => m.roles.map((r) => [r, m.v.data ?? {}]))),
  };
}

async function gpusOrFailure(ctx: SanityContext, config: DynamoConfig): Promise<{t: GpuTopology} | {outcome: CheckOutcome}> {
  const probe = await ctx.facts.gpu();
  if (probe.state === 'ok' && probe.topology.gpus.length) return {t: probe.topology};
  const why = probe.state === 'ok' ? 'the driver lists none' : probe.reason;
  return {
    outcome: {
      status: 'fail',
      finding: `${engineName(config.engine)} needs NVIDIA GPUs and this host has none usable (${why})`,
      fix: 'run the workers on a GPU machine (workers.<role>.hosts), or try the deployment with --engine mocker, which simulates the GPUs',
    },
  };
}

const dtypeOf = (m: ModelInfo) => (m.weightBytesPerParam === 1 ? 'FP8' : m.weightBytesPerParam === 2 ? 'BF16' : `${m.weightBytesPerParam}-byte`);
const largestPow2 = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

/**
 * What to do when the model does not fit: the TP that holds it (when this host has the GPUs for
 * it, that is all), else more GPUs like these, or larger ones for the GPUs here.
 */
function fitFix(model: ModelInfo, t: GpuTopology, kvTokens: number): string {
  const n = t.gpus.length;
  const need = minTensorParallel(model, gpuMemoryBytes(t), kvTokens);
  if (need && need <= n) return `use --tp ${need} (or more)`;
  const m = largestPow2(n);
  const perGpu = (weightBytes(model) + kvTokens * model.kvBytesPerToken.bf16) / m / DEFAULT_UTILIZATION;
  const larger = LARGER_GPUS.find(([, g]) => g * 1024 ** 3 >= perGpu)?.[0];
  const hosts = need ? Math.ceil(need / n) : 0;
  const more = need
    ? `use --tp ${need} on a host with ${need} GPUs like these${hosts > 1 && n > 1 ? ` (or ${hosts} hosts like this one, once a worker can span hosts)` : ''}`
    : 'no TP up to 64 of these GPUs holds it: use larger GPUs';
  return `${more}, or ${m} GPU${m === 1 ? '' : 's'} with ≥ ${formatBytes(perGpu)} each${larger ? ` (e.g. ${m} × ${larger})` : ''}`;
}

/** One real-engine role on this host's GPUs. */
function fitRole(s: Setting, t: GpuTopology, g: RoleGroup): Judged {
  const {model} = s;
  const n = t.gpus.length;
  const mem = gpuMemoryBytes(t);
  const kvMin = minKvTokens(s.ctx.params, model);
  const gpu = shortGpuName(t.gpus.find((x) => x.memory.totalMiB * 1024 ** 2 === mem)!.name);
  const tp = roleTp(g, model, mem, kvMin);
  const data = {tp, tpSet: g.tensorParallelSize !== undefined, gpuMemoryBytes: mem, minKvTokens: kvMin, weightBytes: weightBytes(model)};
  if (tp === undefined || (g.tensorParallelSize === undefined && tp > n)) {
    return {
      status: 'fail',
      text: `${model.name} (${formatBytes(weightBytes(model))} of ${dtypeOf(model)} weights) does not fit ${describeGpus(t.gpus)} (${formatBytes(n * mem)})`,
      fix: fitFix(model, t, kvMin),
      data,
    };
  }
  const fit = fitAtTp(model, tp, mem);
  if (fit.kvBytesPerGpu <= 0 || fit.kvTokens < kvMin) {
    const perGpu = fit.weightsPerGpu + (kvMin * model.kvBytesPerToken.bf16) / tp;
    return {
      status: 'fail',
      text: `${model.name} at TP ${tp} needs ${formatBytes(perGpu)} per GPU (${formatBytes(fit.weightsPerGpu)} of weights + KV for ${tokens(kvMin)} tokens); a ${gpu} offers ${formatBytes(mem * DEFAULT_UTILIZATION)} (90%)`,
      fix: fitFix(model, t, kvMin),
      data: {...data, kvTokens: fit.kvTokens},
    };
  }
  const how = g.tensorParallelSize === undefined ? ` (TP unset: the smallest that fits; set --tp ${tp})` : '';
  const text = `${model.name} at TP ${tp}${how} on ${gpu}: ${formatBytes(fit.weightsPerGpu)} of weights + ${formatBytes(fit.kvBytesPerGpu)} of KV cache per GPU, ${tokens(fit.kvTokens)} tokens per worker`;
  if (fit.kvTokens >= model.contextLength) return {status: 'pass', text, data: {...data, kvTokens: fit.kvTokens}};
  const full = minTensorParallel(model, mem, model.contextLength);
  return {
    status: 'warn',
    text: `${text}, fewer than its ${tokens(model.contextLength)} context`,
    fix: `${engineName(s.d.config.engine)} starts only with ${MAX_LEN_FLAG[s.d.config.engine] ?? 'a max length'} ≤ ${fit.kvTokens}${full && full <= n ? `; for the full context use --tp ${full}` : ''}`,
    data: {...data, kvTokens: fit.kvTokens},
  };
}

/** The mocker's simulated GPUs, sized the way its workers will size them. */
function fitMocker(s: Setting, g: RoleGroup): Judged {
  const mk = s.d.config.mocker;
  try {
    const cap = kvCapacity(s.model, {gpuMemoryGb: mk.gpuMemoryGb, blockSize: s.d.config.router.blockSize, tensorParallelSize: g.tensorParallelSize});
    const kv = mk.numGpuBlocks ? mk.numGpuBlocks * s.d.config.router.blockSize : cap.tokens;
    return {
      status: 'pass',
      text: `the mocker simulates the GPUs (none needed here): ${cap.gpus} × ${mk.gpuMemoryGb} GiB per worker (TP ${cap.gpus}${g.tensorParallelSize ? '' : ', its own choice'}), ${tokens(kv)} tokens of KV cache`,
      data: {tp: cap.gpus, gpuMemoryGb: mk.gpuMemoryGb, kvTokens: kv},
    };
  } catch (e) {
    return {status: 'fail', text: (e as Error).message, fix: (e as {hint?: string}).hint};
  }
}

const fit: Check = {
  id: 'deployment.fit',
  area: 'deployment',
  title: 'Model fits the GPUs',
  run: onWorkersHere(async (s) => {
    const {engine} = s.d.config;
    if (engine === 'mocker') return combine(s.groups.map((g) => ({roles: [g.role], v: fitMocker(s, g)})));
    if (!needsGpus(engine)) return {status: 'skip', finding: `${engineName(engine)} needs no GPU`};
    const gpus = await gpusOrFailure(s.ctx, s.d.config);
    if ('outcome' in gpus) return gpus.outcome;
    return combine(s.groups.map((g) => ({roles: [g.role], v: fitRole(s, gpus.t, g)})));
  }),
};

/** Each role's TP on these GPUs, or undefined when some role fits no TP (deployment.fit says so). */
function tpsOn(s: Setting, t: GpuTopology): number[] | undefined {
  const kvMin = minKvTokens(s.ctx.params, s.model);
  const tps = s.groups.map((g) => roleTp(g, s.model, gpuMemoryBytes(t), kvMin));
  return tps.every((x) => x !== undefined) ? (tps as number[]) : undefined;
}

const gpuCount: Check = {
  id: 'deployment.gpu-count',
  area: 'deployment',
  title: 'Enough GPUs for the workers',
  run: onWorkersHere(async (s) => {
    const {engine} = s.d.config;
    if (!needsGpus(engine)) return {status: 'skip', finding: `${engineName(engine)} needs no GPU`};
    const gpus = await gpusOrFailure(s.ctx, s.d.config);
    if ('outcome' in gpus) return gpus.outcome;
    const {t} = gpus;
    const tps = tpsOn(s, t);
    if (!tps) return {status: 'skip', finding: `${s.model.name} fits no TP on these GPUs (see deployment.fit)`};
    const n = t.gpus.length;
    const need = s.groups.reduce((sum, g, i) => sum + g.ids.length * tps[i]!, 0);
    const parts = s.groups.map((g, i) => `${workersOf(g)} × TP ${tps[i]}`).join(' + ');
    const data = {gpus: n, needed: need, roles: Object.fromEntries(s.groups.map((g, i) => [g.role, {workers: g.ids.length, tp: tps[i]}]))};
    if (need <= n) return {status: 'pass', finding: `${parts} = ${need} of ${n} GPUs${need < n ? ` (${n - need} idle)` : ''}`, data};
    let fix: string;
    if (s.groups.length === 1) {
      const g = s.groups[0]!;
      const tp = tps[0]!;
      const most = Math.floor(n / tp);
      const need = minTensorParallel(s.model, gpuMemoryBytes(t), minKvTokens(s.ctx.params, s.model));
      fix = most
        ? `use ${countFlag(g.role)} ${most}, or place the others on more hosts (workers.${g.role}.hosts)`
        : need && need <= n
          ? `use --tp ${largestPow2(n)} (${s.model.name} fits from TP ${need})`
          : `${s.model.name} needs more GPUs like these than this host has: see deployment.fit for what holds it`;
    } else {
      fix = `lower ${s.groups.map((g) => countFlag(g.role)).join(' / ')} or their TP until workers × TP add up to ≤ ${n}, or place workers on more hosts (workers.<role>.hosts)`;
    }
    return {status: 'fail', finding: `${parts} need${s.groups.length === 1 && s.groups[0]!.ids.length === 1 ? 's' : ''} ${need} GPUs; this host has ${n} (${describeGpus(t.gpus)})`, fix, data};
  }),
};

const LINK_WORDS: Record<P2PKind, string> = {
  self: 'nothing',
  nvlink: 'NVLink',
  'pcie-switch': 'PCIe (through a switch)',
  'host-bridge': 'PCIe through the CPU',
  'cross-socket': 'the interconnect between CPU sockets',
};

/** "4 × A100 80GB PCIe in NVLink pairs (0-1, 2-3)". */
function describeNvlink(t: GpuTopology): string {
  const groups = nvlinkGroups(t);
  const linked = groups.filter((g) => g.length > 1);
  const gpus = describeGpus(t.gpus);
  if (groups.length === 1 && t.gpus.length > 1) return `${gpus}, all-to-all NVLink`;
  if (!linked.length) return `${gpus} without NVLink`;
  const kind = linked.every((g) => g.length === 2) ? 'NVLink pairs' : 'NVLink groups';
  return `${gpus} in ${kind} (${linked.map(indexList).join(', ')})`;
}

/** The GPUs of `t` minus `taken`, as a topology of their own, with the map back to the original indices. */
function remaining(t: GpuTopology, taken: ReadonlySet<number>): {t: GpuTopology; index: number[]} {
  const index = t.gpus.map((_, i) => i).filter((i) => !taken.has(i));
  return {t: {...t, gpus: index.map((i) => t.gpus[i]!), p2p: index.map((i) => index.map((j) => t.p2p[i]![j]!))}, index};
}

/** The best placement of every role's TP groups, largest TP first; undefined when the GPUs run out. */
function placeGroups(t: GpuTopology, groups: RoleGroup[], tps: number[]): {id: string; tp: number; group: TpGroup}[] | undefined {
  const order = groups.map((g, i) => ({g, tp: tps[i]!})).sort((a, b) => b.tp - a.tp);
  const taken = new Set<number>();
  const out: {id: string; tp: number; group: TpGroup}[] = [];
  for (const {g, tp} of order) {
    const rest = remaining(t, taken);
    const placed = bestTpGroups(rest.t, tp, g.ids.length);
    if (!placed) return undefined;
    for (const [k, p] of placed.entries()) {
      const gpus = p.gpus.map((i) => rest.index[i]!);
      for (const i of gpus) taken.add(i);
      out.push({id: g.ids[k]!, tp, group: {gpus, link: p.link}});
    }
  }
  return out;
}

const tpNvlink: Check = {
  id: 'deployment.tp-nvlink',
  area: 'deployment',
  title: 'Tensor parallel groups on NVLink',
  run: onWorkersHere(async (s) => {
    const {engine} = s.d.config;
    if (!needsGpus(engine)) return {status: 'skip', finding: `${engineName(engine)} has no GPUs to place`};
    const probe = await s.ctx.facts.gpu();
    if (probe.state !== 'ok' || !probe.topology.gpus.length) return {status: 'skip', finding: 'no GPUs here (see deployment.gpu-count)'};
    const t = probe.topology;
    const tps = tpsOn(s, t);
    if (!tps) return {status: 'skip', finding: `${s.model.name} fits no TP on these GPUs (see deployment.fit)`};
    if (tps.every((tp) => tp === 1)) return {status: 'pass', finding: 'TP 1: no tensor-parallel traffic between GPUs'};
    const placed = placeGroups(t, s.groups, tps);
    if (!placed) return {status: 'skip', finding: 'not enough GPUs for every TP group (see deployment.gpu-count)'};
    const data = {placement: placed.map((p) => ({worker: p.id, gpus: p.group.gpus, link: p.group.link}))};
    const slow = placed.filter((p) => p.tp > 1 && p.group.link !== 'nvlink');
    if (!slow.length) {
      const where = placed.filter((p) => p.tp > 1).map((p) => `${p.id} on GPUs ${indexList(p.group.gpus)}`);
      return {status: 'pass', finding: `every TP group sits on NVLink: ${where.join(', ')}`, data};
    }
    const tp = Math.max(...slow.map((p) => p.tp));
    const crossing = slow.map((p) => `${p.id} (GPUs ${indexList(p.group.gpus)}) crosses ${LINK_WORDS[p.group.link]}`);
    const domain = largestPow2(Math.max(...nvlinkGroups(t).map((g) => g.length)));
    const fitsDomain = domain >= 2 && (minTensorParallel(s.model, gpuMemoryBytes(t), minKvTokens(s.ctx.params, s.model)) ?? Infinity) <= domain;
    const g = s.groups[0]!;
    const fix =
      fitsDomain && s.groups.length === 1
        ? `use --tp ${domain} with ${(g.ids.length * tp) / domain} workers (${countFlag(g.role)} ${(g.ids.length * tp) / domain}): each group then stays on NVLink`
        : fitsDomain
          ? `use --tp ${domain} or less, so each group stays on NVLink`
          : `${s.model.name} needs TP ${tp} here, more than an NVLink domain holds (${domain === 1 ? 'none' : domain}): expect slower decoding, or use GPUs on one NVSwitch`;
    return {status: 'warn', finding: `TP ${tp} on ${describeNvlink(t)}: ${crossing.join('; ')}`, fix, data};
  }),
};

export const deploymentGpuChecks: Check[] = [fit, gpuCount, tpNvlink];
