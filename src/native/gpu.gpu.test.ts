/**
 * The GPU probe against a real driver: what NVML gives through the addon must be what nvidia-smi
 * prints, field by field. Runs only where a GPU is (the default vitest config leaves *.gpu.test.ts
 * out), e.g. `npx vitest run --config <a config including it> src/native/gpu.gpu.test.ts`.
 */
import {execFileSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {normalizePciBusId} from '../sanity/gpu/pci.js';
import {gpuBandwidth, probeNvml} from './gpu.js';
import {requireNative} from './index.js';

const addon = requireNative();

/** nvidia-smi's answer to --query-gpu=`fields`, one array of strings per GPU. */
function smi(fields: string[]): string[][] {
  const out = execFileSync('nvidia-smi', [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'], {encoding: 'utf8'});
  return out
    .trim()
    .split('\n')
    .map((line) => line.split(',').map((f) => f.trim()));
}

describe('GPU probe on a machine with a GPU', () => {
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
    const raw = addon.gpuProbe();
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
