/**
 * `nvidia-smi -q -x` → the driver, its CUDA version and one `GpuDevice` per `<gpu>`, in the order
 * nvidia-smi lists them (its GPU index, which `topo -m`'s GPU<n> labels use).
 *
 * The schema drifted across drivers (nvsmi_device_v10 … v13), so each value is read from every
 * place a driver has put it:
 * - power: `<gpu_power_readings>` (R530+) or `<power_readings>`; draw from `power_draw`,
 *   `instant_power_draw` or `average_power_draw`; limit from `current_power_limit`,
 *   `enforced_power_limit` or `power_limit`.
 * - uncorrected ECC errors: `dram_uncorrectable` + `sram_uncorrectable` (Ampere-era), the SRAM
 *   count split into `sram_uncorrectable_parity` + `sram_uncorrectable_secded` (v13), or
 *   `double_bit/total` (before them).
 * - `<compute_cap>` is absent from most drivers' `-q -x`: then `computeCapability` stays undefined.
 * - NVLink links are not in `-q -x`: `nvlinks` is empty; `topo -m` gives the NVLink pairs.
 * Values nvidia-smi cannot give ("N/A", "[N/A]", "Not Supported", "Requested functionality has
 * been deprecated", …) become undefined.
 */
import {normalizePciBusId} from './pci.js';
import type {GpuDevice} from './topology.js';
import {child, children, parseXml, type XmlElement, XmlError} from './xml.js';

export interface NvidiaSmiLog {
  driverVersion: string;
  /** "12.4"; empty when the driver does not say. */
  cudaVersion: string;
  /** `numaNode` comes from `topo -m`, so it is undefined here. */
  gpus: GpuDevice[];
}

/** The element's text, or undefined when nvidia-smi could not tell. */
function value(el: XmlElement | undefined): string | undefined {
  const t = el?.text.trim();
  if (!t) return undefined;
  if (/^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|Unknown)\]?$/i.test(t)) return undefined;
  if (/deprecated|not supported|error/i.test(t)) return undefined;
  return t;
}

/** "81559 MiB" → 81559, "69.12 W" → 69.12, "1980 MHz" → 1980, "0" → 0. */
function numberOf(el: XmlElement | undefined): number | undefined {
  const t = value(el);
  if (t === undefined) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*[A-Za-z%/]+)?$/.exec(t);
  return m ? Number(m[1]) : undefined;
}

function first(...xs: (number | undefined)[]): number | undefined {
  return xs.find((x) => x !== undefined);
}

function sum(...xs: (number | undefined)[]): number | undefined {
  const known = xs.filter((x): x is number => x !== undefined);
  return known.length ? known.reduce((a, b) => a + b, 0) : undefined;
}

function mode(el: XmlElement | undefined): 'enabled' | 'disabled' | 'unsupported' | undefined {
  if (!el) return undefined;
  const t = value(el)?.toLowerCase();
  if (t === 'enabled') return 'enabled';
  if (t === 'disabled') return 'disabled';
  return 'unsupported';
}

/** Uncorrected ECC errors in one counter set (`<volatile>` or `<aggregate>`). */
function uncorrected(set: XmlElement | undefined): number | undefined {
  if (!set) return undefined;
  const sram = first(
    numberOf(child(set, 'sram_uncorrectable')),
    sum(numberOf(child(set, 'sram_uncorrectable_parity')), numberOf(child(set, 'sram_uncorrectable_secded'))),
  );
  return first(sum(numberOf(child(set, 'dram_uncorrectable')), sram), numberOf(child(set, 'double_bit/total')));
}

function readGpu(gpu: XmlElement, index: number): GpuDevice {
  const power = child(gpu, 'gpu_power_readings') ?? child(gpu, 'power_readings');
  const fb = child(gpu, 'fb_memory_usage');
  const totalMiB = numberOf(child(fb, 'total')) ?? 0;
  const usedMiB = numberOf(child(fb, 'used')) ?? 0;
  const busId = value(child(gpu, 'pci/pci_bus_id')) ?? gpu.attrs.id ?? '';
  const d: GpuDevice = {
    index,
    name: value(child(gpu, 'product_name')) ?? 'unknown GPU',
    uuid: value(child(gpu, 'uuid')) ?? '',
    pciBusId: normalizePciBusId(busId),
    memory: {totalMiB, usedMiB, freeMiB: numberOf(child(fb, 'free')) ?? Math.max(0, totalMiB - usedMiB)},
    nvlinks: [],
  };
  const cc = value(child(gpu, 'compute_cap'));
  if (cc) d.computeCapability = cc;
  const mig = mode(child(gpu, 'mig_mode/current_mig'));
  if (mig) d.mig = mig;
  const ecc = mode(child(gpu, 'ecc_mode/current_ecc'));
  if (ecc) {
    d.ecc = {mode: ecc};
    const vol = uncorrected(child(gpu, 'ecc_errors/volatile'));
    const agg = uncorrected(child(gpu, 'ecc_errors/aggregate'));
    if (vol !== undefined) d.ecc.volatileUncorrected = vol;
    if (agg !== undefined) d.ecc.aggregateUncorrected = agg;
  }
  const persistence = value(child(gpu, 'persistence_mode'))?.toLowerCase();
  if (persistence === 'enabled' || persistence === 'disabled') d.persistenceMode = persistence === 'enabled';
  const drawW = first(...['power_draw', 'instant_power_draw', 'average_power_draw'].map((n) => numberOf(child(power, n))));
  const limitW = first(...['current_power_limit', 'enforced_power_limit', 'power_limit'].map((n) => numberOf(child(power, n))));
  if (drawW !== undefined || limitW !== undefined) d.power = {...(drawW !== undefined && {drawW}), ...(limitW !== undefined && {limitW})};
  const smMHz = numberOf(child(gpu, 'clocks/sm_clock'));
  const memMHz = numberOf(child(gpu, 'clocks/mem_clock'));
  const maxSmMHz = numberOf(child(gpu, 'max_clocks/sm_clock'));
  if (smMHz !== undefined || memMHz !== undefined || maxSmMHz !== undefined) {
    d.clocks = {...(smMHz !== undefined && {smMHz}), ...(memMHz !== undefined && {memMHz}), ...(maxSmMHz !== undefined && {maxSmMHz})};
  }
  return d;
}

/** Throws `XmlError` on malformed XML or a document that is not an `nvidia_smi_log`. */
export function parseNvidiaSmiXml(xml: string): NvidiaSmiLog {
  const root = parseXml(xml);
  if (root.name !== 'nvidia_smi_log') throw new XmlError(`the root element is <${root.name}>, not <nvidia_smi_log>`);
  const driverVersion = value(child(root, 'driver_version'));
  if (!driverVersion) throw new XmlError('no <driver_version>');
  const gpus = children(root, 'gpu').map(readGpu);
  const attached = numberOf(child(root, 'attached_gpus'));
  if (attached !== undefined && attached !== gpus.length) {
    throw new XmlError(`<attached_gpus> says ${attached} but the log has ${gpus.length} <gpu> elements`);
  }
  return {driverVersion, cudaVersion: value(child(root, 'cuda_version')) ?? '', gpus};
}
