/**
 * Reading a check's parameters from its suite (sanity/*.yaml). A check names each parameter with
 * its default, so a suite may leave it out; a value of the wrong type is a mistake in the suite,
 * thrown so the runner reports the check as crashed with this message.
 */
export function numberParam(params: Record<string, unknown>, key: string, fallback: number): number {
  const v = params[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`parameter "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function booleanParam(params: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = params[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`parameter "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function stringParam(params: Record<string, unknown>, key: string, fallback: string): string {
  const v = params[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new Error(`parameter "${key}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

const GiB = 1024 ** 3;

/** "23.5 GiB", "64 MiB", "512 KiB": binary units, at most one decimal, as df -h prints. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const n = v >= 100 || Number.isInteger(v) ? Math.round(v) : Math.round(v * 10) / 10;
  return `${n} ${units[i]}`;
}

export const gib = (n: number): number => n * GiB;
