/** How to start this same program again, as a child (every role is this executable). */
export function isCompiledBinary(): boolean {
  return import.meta.url.includes('$bunfs') || (process.argv[1] ?? '').startsWith('/$bunfs/');
}

export function selfArgv(): string[] {
  if (isCompiledBinary()) return [process.execPath];
  // Under node: keep loader flags (`--import tsx`) and the entry script.
  return [process.execPath, ...process.execArgv, process.argv[1]!];
}
