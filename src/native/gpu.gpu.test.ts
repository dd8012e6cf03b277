/**
 * The GPU probe against a real driver: what NVML gives through the addon must be what nvidia-smi
 * prints, field by field (`npm run test:gpu`; the default vitest config leaves *.gpu.test.ts out).
 * Where nvidia-smi does not answer (no NVIDIA driver) the suite skips, saying so, rather than fail:
 * `npm run test:gpu` must be safe to run anywhere, and only a GPU machine can tell us anything here.
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {normalizePciBusId} from '../sanity/gpu/pci.js';
import {gpuBandwidth, probeNvml} from './gpu.js';
import {requireNative} from './index.js';

/**
 * Why there is nothing to compare with, from nvidia-smi's own answer: not installed, no driver to talk
 * to (exit 9) or no GPU (exit 6). Any other failure runs the suite, so a broken driver fails it.
 */
function noGpu(): string | undefined {
  const r = spawnSync('nvidia-smi', ['-L'], {encoding: 'utf8', timeout: 30_000});
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return 'no nvidia-smi on this machine (no NVIDIA driver)';
  if (r.status === 9) return 'nvidia-smi cannot reach an NVIDIA driver';
  if (r.status === 6) return 'nvidia-smi finds no GPU';
  return undefined;
}

const skipped = noGpu();

/** nvidia-smi's answer to --query-gpu=`fields`, one array of strings per GPU. */
function smi(fields: string[]): string[][] {
  const out = execFileSync('nvidia-smi', [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'], {encoding: 'utf8'});
  return out
    .trim()
    .split('\n')
    .map((line) => line.split(',').map((f) => f.trim()));
}

describe.skipIf(skipped !== undefined)(`GPU probe on a machine with a GPU${skipped ? ` (skipped: ${skipped})` : ''}`, () => {
  it('agrees with nvidia-smi on every GPU index, name, UUID, PCI address, memory size and the driver version', () => {
    const probe = probeNvml();
    if (probe.state !== 'ok') throw new Error(`NVML probe: ${probe.state}: ${probe.reason}`);
    const rows = smi(['index', 'name', 'uuid', 'pci.bus_id', 'memory.total', 'driver_version']);
    const t = probe.topology;
    expect(t.gpus.map((g) => [String(g.index), g.name, g.uuid, g.pciBusId, String(g.memory.totalMiB), t.driverVersion])).toEqual(
      rows.map(([index, name, uuid, bus, total, driver]) => [index, name, uuid, normalizePciBusId(bus!), total, driver]),
    );
    expect(t.cudaDriverVersion).toMatch(/^\d+\.\d+$/);
    expect(t.p2p.map((row, i) => row[i]!.kind)).toEqual(t.gpus.map(() => 'self'));
  });

  it('sees the same GPUs through the CUDA driver API', () => {
    const raw = requireNative().gpuProbe();
    if (!raw.cuda?.loaded) throw new Error(`CUDA: ${raw.cuda?.error}`);
    if (!raw.nvml.loaded) throw new Error(`NVML: ${raw.nvml.error}`);
    const nvmlBusIds = new Set(raw.nvml.devices.map((d) => normalizePciBusId(d.pciBusId ?? '')));
    expect(raw.cuda.deviceCount).toBeGreaterThan(0);
    for (const d of raw.cuda.devices) expect(nvmlBusIds).toContain(normalizePciBusId(d.pciBusId ?? ''));
  });

  it('measures host-to-device and device-to-device bandwidth on device 0', () => {
    const r = gpuBandwidth(64);
    if (!r.ok) throw new Error(r.error);
    expect(r.pinned).toBe(true);
    expect(r.h2dGBps).toBeGreaterThan(1);
    expect(r.d2dGBps).toBeGreaterThan(r.h2dGBps);
  });
});
