/**
 * PCI addresses in one form. NVML and nvidia-smi print an 8-digit domain in upper case
 * ("00000000:9A:00.0"), the kernel and CUDA a 4-digit one in lower case ("0000:9a:00.0"); GPU
 * topologies from either source are compared and looked up in /sys/bus/pci/devices, so both become
 * the kernel's form.
 */

const PCI_ADDRESS = /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/;

/**
 * "00000000:18:00.0" → "0000:18:00.0" (the kernel's form: domain as at least 4 hex digits, bus and
 * device as 2, lower case; a missing domain is 0). Text that is no PCI address is only trimmed and
 * lower-cased, so that it still compares equal to itself from another source.
 */
export function normalizePciBusId(id: string): string {
  const text = id.trim().toLowerCase();
  const m = PCI_ADDRESS.exec(text);
  if (!m) return text;
  const [, domain = '0', bus, device, fn] = m;
  const hex = (digits: string, width: number) => Number.parseInt(digits, 16).toString(16).padStart(width, '0');
  return `${hex(domain, 4)}:${hex(bus!, 2)}:${hex(device!, 2)}.${fn}`;
}
