import {describe, expect, it} from 'vitest';
import {boxFile} from '../../../test/fixtures/gpu/boxes.js';
import {parseNvidiaSmiXml} from './nvidia-smi-xml.js';
import type {GpuDevice} from './topology.js';
import {XmlError} from './xml.js';

const parse = (box: string) => parseNvidiaSmiXml(boxFile(box, 'nvidia-smi-q.xml'));

describe('parseNvidiaSmiXml on the recorded boxes', () => {
  it('reads 8 × H100 SXM (driver 550, nvsmi_device_v12)', () => {
    const log = parse('h100-sxm-8');
    expect(log.driverVersion).toBe('550.54.15');
    expect(log.cudaVersion).toBe('12.4');
    expect(log.gpus[0]).toEqual<GpuDevice>({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      uuid: 'GPU-2d65bb03-dab7-5621-3e1e-ad189c06c006',
      pciBusId: '0000:18:00.0',
      memory: {totalMiB: 81559, usedMiB: 4, freeMiB: 81209},
      mig: 'disabled',
      ecc: {mode: 'enabled', volatileUncorrected: 0, aggregateUncorrected: 0},
      persistenceMode: true,
      power: {drawW: 69.12, limitW: 700},
      clocks: {smMHz: 345, memMHz: 2619, maxSmMHz: 1980},
      nvlinks: [],
    });
    expect(log.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(log.gpus.map((g) => g.pciBusId)).toEqual([
      '0000:18:00.0',
      '0000:2a:00.0',
      '0000:3a:00.0',
      '0000:5d:00.0',
      '0000:9a:00.0',
      '0000:ab:00.0',
      '0000:ba:00.0',
      '0000:db:00.0',
    ]);
    expect(log.gpus.map((g) => g.power?.drawW)).toEqual([69.12, 69.95, 70.78, 71.61, 72.44, 73.27, 74.1, 74.93]);
    expect(new Set(log.gpus.map((g) => g.uuid)).size).toBe(8);
    // -q -x carries neither the compute capability (on this driver) nor NVLink per link.
    expect(log.gpus.every((g) => g.computeCapability === undefined && g.nvlinks.length === 0)).toBe(true);
  });

  it('reads 4 × A100 PCIe, one of them half taken by a process', () => {
    const log = parse('a100-pcie-4-nvlink-pairs');
    expect([log.driverVersion, log.cudaVersion]).toEqual(['550.90.07', '12.4']);
    expect(log.gpus.map((g) => [g.name, g.pciBusId, g.memory])).toEqual([
      ['NVIDIA A100 80GB PCIe', '0000:17:00.0', {totalMiB: 81920, usedMiB: 0, freeMiB: 81399}],
      ['NVIDIA A100 80GB PCIe', '0000:31:00.0', {totalMiB: 81920, usedMiB: 38912, freeMiB: 42487}],
      ['NVIDIA A100 80GB PCIe', '0000:4b:00.0', {totalMiB: 81920, usedMiB: 0, freeMiB: 81399}],
      ['NVIDIA A100 80GB PCIe', '0000:65:00.0', {totalMiB: 81920, usedMiB: 0, freeMiB: 81399}],
    ]);
    expect(log.gpus.map((g) => g.power)).toEqual([
      {drawW: 44.87, limitW: 300},
      {drawW: 46.77, limitW: 300},
      {drawW: 48.67, limitW: 300},
      {drawW: 50.57, limitW: 300},
    ]);
  });

  it('reads 1 × L4, whose driver reports instant and average power instead of power_draw', () => {
    const log = parse('l4-1');
    expect([log.driverVersion, log.cudaVersion]).toEqual(['560.35.03', '12.6']);
    expect(log.gpus).toEqual<GpuDevice[]>([
      {
        index: 0,
        name: 'NVIDIA L4',
        uuid: 'GPU-778fcd3b-4b35-afcf-274a-25891c9dbaf4',
        pciBusId: '0000:00:03.0',
        memory: {totalMiB: 23034, usedMiB: 1, freeMiB: 22599},
        mig: 'unsupported',
        ecc: {mode: 'enabled', volatileUncorrected: 0, aggregateUncorrected: 0},
        persistenceMode: true,
        power: {drawW: 16.24, limitW: 72},
        clocks: {smMHz: 210, memMHz: 405, maxSmMHz: 2040},
        nvlinks: [],
      },
    ]);
  });

  it('reads 4 × L40S with ECC off (its error counts N/A)', () => {
    const log = parse('two-socket-4');
    expect(log.gpus.map((g) => [g.name, g.pciBusId, g.ecc, g.mig])).toEqual([
      ['NVIDIA L40S', '0000:4f:00.0', {mode: 'disabled'}, 'unsupported'],
      ['NVIDIA L40S', '0000:52:00.0', {mode: 'disabled'}, 'unsupported'],
      ['NVIDIA L40S', '0000:ce:00.0', {mode: 'disabled'}, 'unsupported'],
      ['NVIDIA L40S', '0000:d1:00.0', {mode: 'disabled'}, 'unsupported'],
    ]);
  });

  it('reads an R470 log (nvsmi_device_v11): <power_readings>, <power_limit>, MIG on, ECC errors, MIG slices not counted as GPUs', () => {
    const log = parse('old-driver');
    expect([log.driverVersion, log.cudaVersion]).toEqual(['470.199.02', '11.4']);
    expect(log.gpus).toEqual<GpuDevice[]>([
      {
        index: 0,
        name: 'NVIDIA A100-SXM4-40GB',
        uuid: 'GPU-0c099d23-ca11-bc55-4ef7-3198b048daba',
        pciBusId: '0000:07:00.0',
        memory: {totalMiB: 40536, usedMiB: 25, freeMiB: 40511},
        mig: 'enabled',
        ecc: {mode: 'enabled', volatileUncorrected: 2, aggregateUncorrected: 2},
        persistenceMode: true,
        power: {drawW: 58.32, limitW: 400},
        clocks: {smMHz: 1095, memMHz: 1215, maxSmMHz: 1410},
        nvlinks: [],
      },
    ]);
  });
});

const gpu = (inner: string) =>
  `<?xml version="1.0" ?><nvidia_smi_log><driver_version>580.65.06</driver_version><cuda_version>13.0</cuda_version><attached_gpus>1</attached_gpus><gpu id="00000000:01:00.0">${inner}</gpu></nvidia_smi_log>`;

describe('parseNvidiaSmiXml across driver generations', () => {
  it('takes <compute_cap> when the driver prints it', () => {
    expect(parseNvidiaSmiXml(gpu('<compute_cap>9.0</compute_cap>')).gpus[0]!.computeCapability).toBe('9.0');
  });

  it('sums DRAM and split SRAM uncorrectable counts (nvsmi_device_v13)', () => {
    const ecc = parseNvidiaSmiXml(
      gpu(`<ecc_mode><current_ecc>Enabled</current_ecc></ecc_mode><ecc_errors>
        <volatile><sram_correctable>5</sram_correctable><sram_uncorrectable_parity>1</sram_uncorrectable_parity>
          <sram_uncorrectable_secded>2</sram_uncorrectable_secded><dram_correctable>0</dram_correctable><dram_uncorrectable>4</dram_uncorrectable></volatile>
        <aggregate><sram_uncorrectable_parity>N/A</sram_uncorrectable_parity><sram_uncorrectable_secded>N/A</sram_uncorrectable_secded><dram_uncorrectable>N/A</dram_uncorrectable></aggregate>
      </ecc_errors>`),
    ).gpus[0]!.ecc;
    expect(ecc).toEqual({mode: 'enabled', volatileUncorrected: 7});
  });

  it('reads double-bit totals from pre-Ampere logs', () => {
    const ecc = parseNvidiaSmiXml(
      gpu(`<ecc_mode><current_ecc>Enabled</current_ecc></ecc_mode><ecc_errors>
        <volatile><single_bit><total>12</total></single_bit><double_bit><device_memory>1</device_memory><total>1</total></double_bit></volatile>
        <aggregate><single_bit><total>40</total></single_bit><double_bit><total>3</total></double_bit></aggregate>
      </ecc_errors>`),
    ).gpus[0]!.ecc;
    expect(ecc).toEqual({mode: 'enabled', volatileUncorrected: 1, aggregateUncorrected: 3});
  });

  it('turns "N/A", "[N/A]", "Not Supported" and deprecation notices into undefined', () => {
    const d = parseNvidiaSmiXml(
      gpu(`<product_name>NVIDIA GeForce RTX 4090</product_name><persistence_mode>N/A</persistence_mode>
        <mig_mode><current_mig>N/A</current_mig></mig_mode><ecc_mode><current_ecc>[N/A]</current_ecc></ecc_mode>
        <fb_memory_usage><total>24564 MiB</total><used>Not Supported</used><free>[N/A]</free></fb_memory_usage>
        <gpu_power_readings><power_state>Requested functionality has been deprecated</power_state><power_draw>[N/A]</power_draw><average_power_draw>25.10 W</average_power_draw><current_power_limit>Not Supported</current_power_limit></gpu_power_readings>
        <clocks><sm_clock>N/A</sm_clock></clocks>`),
    ).gpus[0]!;
    expect(d).toEqual<GpuDevice>({
      index: 0,
      name: 'NVIDIA GeForce RTX 4090',
      uuid: '',
      pciBusId: '0000:01:00.0',
      memory: {totalMiB: 24564, usedMiB: 0, freeMiB: 24564},
      mig: 'unsupported',
      ecc: {mode: 'unsupported'},
      power: {drawW: 25.1},
      nvlinks: [],
    });
  });

  it.each([
    ['truncated output', boxFile('l4-1', 'nvidia-smi-q.xml').slice(0, 2000), 'the document ends inside'],
    ['another document', '<html><body>502</body></html>', 'the root element is <html>, not <nvidia_smi_log>'],
    ['no driver version', '<nvidia_smi_log><attached_gpus>0</attached_gpus></nvidia_smi_log>', 'no <driver_version>'],
    [
      'a GPU count that disagrees with the GPUs listed',
      '<nvidia_smi_log><driver_version>550.54.15</driver_version><attached_gpus>2</attached_gpus><gpu id="0"/></nvidia_smi_log>',
      '<attached_gpus> says 2 but the log has 1 <gpu> elements',
    ],
  ])('refuses %s', (_, xml, message) => {
    expect(() => parseNvidiaSmiXml(xml)).toThrow(XmlError);
    expect(() => parseNvidiaSmiXml(xml)).toThrow(message);
  });
});
