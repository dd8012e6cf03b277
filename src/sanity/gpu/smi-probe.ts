/**
 * The GPUs as `nvidia-smi` reports them, for when NVML cannot be loaded in-process: `-q -x` for
 * the devices and `topo -m` for how they connect, run side by side. Never throws: a missing
 * nvidia-smi is `no-driver`, one that fails or prints something unreadable is `error` with the
 * first line it said.
 */
import type {SanityFacts} from '../check.js';
import {parseNvidiaSmiXml} from './nvidia-smi-xml.js';
import {parseTopoMatrix} from './topo-matrix.js';
import type {GpuProbe} from './topology.js';

export type RunCommand = SanityFacts['run'];

/** `nvidia-smi -q` takes a few hundred milliseconds on 8 GPUs without persistence mode. */
export const NVIDIA_SMI_TIMEOUT_MS = 1500;

export const NO_DRIVER_REASON = 'nvidia-smi not found and NVML not loadable';

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

/** nvidia-smi reports most failures on stdout ("NVIDIA-SMI has failed because …"). */
function failure(what: string, r: {code: number | null; stdout: string; stderr: string}): string {
  const said = firstLine(r.stderr) || firstLine(r.stdout);
  return `${what} failed${r.code !== null ? ` (exit ${r.code})` : ''}${said ? `: ${said}` : ''}`;
}

function isMissing(r: {ok: boolean; code: number | null; stderr: string}): boolean {
  return !r.ok && r.code === null && /ENOENT|not found/i.test(r.stderr);
}

export async function probeNvidiaSmi(run: RunCommand, timeoutMs = NVIDIA_SMI_TIMEOUT_MS): Promise<GpuProbe> {
  const [q, topo] = await Promise.all([run('nvidia-smi', ['-q', '-x'], timeoutMs), run('nvidia-smi', ['topo', '-m'], timeoutMs)]);
  if (isMissing(q)) return {state: 'no-driver', reason: NO_DRIVER_REASON};
  if (!q.ok || q.code !== 0) return {state: 'error', reason: failure('nvidia-smi -q -x', q)};
  let log: ReturnType<typeof parseNvidiaSmiXml>;
  try {
    log = parseNvidiaSmiXml(q.stdout);
  } catch (e) {
    return {state: 'error', reason: `could not read nvidia-smi -q -x: ${(e as Error).message}`};
  }
  if (!topo.ok || topo.code !== 0) return {state: 'error', reason: failure('nvidia-smi topo -m', topo)};
  let matrix: ReturnType<typeof parseTopoMatrix>;
  try {
    matrix = parseTopoMatrix(topo.stdout);
  } catch (e) {
    return {state: 'error', reason: `could not read nvidia-smi topo -m: ${(e as Error).message}`};
  }
  if (matrix.p2p.length !== log.gpus.length) {
    return {
      state: 'error',
      reason: `nvidia-smi -q -x lists ${log.gpus.length} GPUs but topo -m lists ${matrix.p2p.length}`,
    };
  }
  const gpus = log.gpus.map((g, i) => {
    const numaNode = matrix.numaNodes[i];
    return numaNode === undefined ? g : {...g, numaNode};
  });
  return {
    state: 'ok',
    topology: {source: 'nvidia-smi', driverVersion: log.driverVersion, cudaDriverVersion: log.cudaVersion, gpus, p2p: matrix.p2p},
  };
}
