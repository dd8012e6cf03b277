/**
 * `dynamo bench` from profile to files: resolve the target (a URL, or the running `dynamo up`
 * deployment), build the workload, run each load point (warm-up first), analyze, write outputs.
 * session.ts drives these steps for the command; progress.ts shows them.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {UserError} from '../shared/errors.js';
import {parseMooncakeTrace} from '../traces/mooncake.js';
import {findDeployment} from '../supervisor/find-deployment.js';
import {listRuns} from '../supervisor/run-dir.js';
import {type PointResult, analyzeRun} from './analyze.js';
import {type Target, streamChat} from './client.js';
import {type BenchExport, benchExport, requestLines, toCsv} from './export.js';
import {renderHtml} from './html.js';
import {type RequestRecord, runLoad} from './load.js';
import {type BenchProfile, type LoadPoint, describePoint, loadPoints, slosOf} from './profile.js';
import {type BenchTokenizer, loadBenchTokenizer} from './tokens.js';
import {type Workload, promptsWorkload, syntheticWorkload, traceWorkload} from './workload.js';

export interface PreparedBench {
  profile: BenchProfile;
  target: Target;
  /** Where the target came from, for the report ("http://…/v1" or "deployment <name>"). */
  targetLabel: string;
  tokenizer: BenchTokenizer;
  workload: Workload;
  points: {point: LoadPoint; label: string}[];
}

/** http://host:port or http://host:port/v1 → http://host:port/v1 (AIPerf takes either). */
export function normalizeBaseUrl(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path === '' ? '/v1' : path;
  return u.toString().replace(/\/+$/, '');
}

function deploymentTarget(name: string | undefined, home: string): {url: string; model: string; name: string} {
  if (name === undefined && !listRuns(home).some((r) => r.alive)) {
    throw new UserError('no target: pass --url, or start a deployment with `dynamo up`', 'e.g. `dynamo bench --url http://127.0.0.1:8000/v1 --model <name>`');
  }
  const s = findDeployment(home, name, {nameFlag: '--deployment'}).state;
  return {url: s.url, model: s.model, name: s.name};
}

async function firstModel(baseUrl: string, apiKey?: string): Promise<string> {
  let res: globalThis.Response;
  try {
    res = await fetch(`${baseUrl}/models`, {headers: apiKey ? {authorization: `Bearer ${apiKey}`} : {}, signal: AbortSignal.timeout(10_000)});
  } catch (e) {
    const cause = (e as {cause?: {code?: string}}).cause?.code ?? (e as Error).message;
    throw new UserError(`cannot reach ${baseUrl} (${cause})`, 'start the server (e.g. `dynamo up`) or fix --url');
  }
  const body = (await res.json().catch(() => ({}))) as {data?: {id?: string}[]};
  const id = body.data?.[0]?.id;
  if (!res.ok || !id) throw new UserError(`${baseUrl}/models did not name a model (HTTP ${res.status})`, 'pass --model');
  return id;
}

export async function prepareBench(profile: BenchProfile, opts: {home: string; cwd?: string}): Promise<PreparedBench> {
  const t = profile.target;
  let baseUrl: string;
  let model = t.model;
  let targetLabel: string;
  if (t.url) {
    baseUrl = normalizeBaseUrl(t.url);
    targetLabel = baseUrl;
  } else {
    const d = deploymentTarget(t.deployment, opts.home);
    baseUrl = normalizeBaseUrl(d.url);
    model ??= d.model;
    targetLabel = `deployment ${d.name} (${baseUrl})`;
  }
  const apiKey = t.apiKey ?? process.env.OPENAI_API_KEY;
  model ??= await firstModel(baseUrl, apiKey);
  const target: Target = {baseUrl, model, ...(apiKey ? {apiKey} : {}), endpoint: t.endpoint, ignoreEos: t.ignoreEos, extraBody: t.extraBody, timeoutMs: t.timeoutS * 1000};
  const tokenizer = await loadBenchTokenizer(t.tokenizer ?? model, t.tokenizer !== undefined);
  const cwd = opts.cwd ?? process.cwd();
  const read = (file: string, what: string) => {
    try {
      return readFileSync(resolve(cwd, file), 'utf8');
    } catch {
      throw new UserError(`${what} not found: ${resolve(cwd, file)}`, `check the ${what} path`);
    }
  };
  const w = profile.workload;
  if (w.trace && w.prompts) throw new UserError('both a trace and a prompts file are set', 'choose one workload: --trace or --prompts');
  const workload = w.trace
    ? traceWorkload(parseMooncakeTrace(read(w.trace, 'trace'), w.trace, w.traceBlockSize), w.traceBlockSize, tokenizer.words, w.trace)
    : w.prompts
      ? promptsWorkload(read(w.prompts, 'prompts file'), w.prompts, w.osl)
      : syntheticWorkload(w, tokenizer.words, profile.seed);
  let points: LoadPoint[];
  try {
    points = loadPoints(profile);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  return {profile, target, targetLabel, tokenizer, workload, points: points.map((point) => ({point, label: describePoint(point)}))};
}

/** Runs one load point (its warm-up first) and analyzes it. */
export async function runPoint(b: PreparedBench, at: {point: LoadPoint; label: string}, opts: {stop?: AbortSignal; onRecord?: (r: RequestRecord) => void} = {}): Promise<PointResult> {
  const p = b.profile;
  const send = (messages: Parameters<typeof streamChat>[1], maxTokens: number, cancel: AbortSignal) => streamChat(b.target, messages, maxTokens, cancel);
  const common = {
    workload: b.workload,
    send,
    graceMs: p.load.gracePeriodS * 1000,
    arrival: p.load.arrival === 'gamma' ? {kind: 'gamma' as const, shape: p.load.arrivalSmoothness} : {kind: p.load.arrival},
    seed: p.seed,
    ...(opts.stop ? {stop: opts.stop} : {}),
  };
  if (p.load.warmupRequests) {
    const c = at.point.mode === 'concurrency' ? at.point.concurrency : (at.point.concurrency ?? 1);
    // Warm-up prompts come from their own index range, so they do not pre-cache the measured ones.
    await runLoad({...common, point: {mode: 'concurrency', concurrency: Math.min(c, p.load.warmupRequests)}, requestCount: p.load.warmupRequests, firstSession: 1_000_000_000});
  }
  const run = await runLoad({
    ...common,
    point: at.point,
    ...(p.load.requestCount !== undefined ? {requestCount: p.load.requestCount} : {}),
    ...(p.load.durationS !== undefined ? {durationMs: p.load.durationS * 1000} : {}),
    ...(opts.onRecord ? {onRecord: opts.onRecord} : {}),
  });
  return analyzeRun(at.point, at.label, run, slosOf(p), p.slo.attainment, b.tokenizer.counter, p.target.countTokens);
}

export function defaultOutputDir(now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  return join('bench-results', stamp);
}

/** Writes profile_export.{json,csv,jsonl} and report.html; returns the export and the directory. */
export function writeOutputs(b: PreparedBench, results: readonly PointResult[], dir: string): BenchExport {
  const exported = benchExport(results, b.profile, {url: b.target.baseUrl, model: b.target.model});
  mkdirSync(dir, {recursive: true});
  writeFileSync(join(dir, 'profile_export.json'), `${JSON.stringify(exported, null, 2)}\n`);
  writeFileSync(join(dir, 'profile_export.csv'), toCsv(exported));
  writeFileSync(join(dir, 'profile_export.jsonl'), [...requestLines(results)].map((l) => `${l}\n`).join(''));
  const p = b.profile;
  writeFileSync(
    join(dir, 'report.html'),
    renderHtml(results, {
      title: `dynamo bench · ${b.target.model}`,
      target: b.targetLabel,
      model: b.target.model,
      slos: {ttftMs: p.slo.ttftMs, ttstMs: p.slo.ttstMs, tpotMs: p.slo.tpotMs, e2eMs: p.slo.e2eMs},
      attainment: p.slo.attainment,
      createdAt: new Date().toISOString(),
    }),
  );
  return exported;
}
