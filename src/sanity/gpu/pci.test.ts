import {describe, expect, it} from 'vitest';
import {normalizePciBusId} from './pci.js';

describe('normalizePciBusId', () => {
  it("writes NVML's and nvidia-smi's 8-digit upper-case addresses as the kernel does", () => {
    expect(normalizePciBusId('00000000:18:00.0')).toBe('0000:18:00.0');
    expect(normalizePciBusId('00000000:9A:00.0')).toBe('0000:9a:00.0');
    expect(normalizePciBusId(' 00000000:DB:00.0\n')).toBe('0000:db:00.0');
  });

  it("leaves the kernel's and CUDA's form as it is, and gives a missing domain as 0000", () => {
    expect(normalizePciBusId('0000:9a:00.0')).toBe('0000:9a:00.0');
    expect(normalizePciBusId('0000:9A:00.0')).toBe('0000:9a:00.0');
    expect(normalizePciBusId('18:00.0')).toBe('0000:18:00.0');
  });

  it('keeps domains wider than 16 bits (VMD) as the kernel prints them', () => {
    expect(normalizePciBusId('00010000:01:00.0')).toBe('10000:01:00.0');
  });

  it('only trims and lower-cases what is no PCI address', () => {
    expect(normalizePciBusId('N/A')).toBe('n/a');
    expect(normalizePciBusId('')).toBe('');
  });
});
