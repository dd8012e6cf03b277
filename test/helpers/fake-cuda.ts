/**
 * The stand-in CUDA driver (test/fixtures/fake-libcuda.c), built once per process into a temporary
 * directory: point DYNAMO_LIBCUDA at the path returned to give a process "GPU memory" without a GPU.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

let built: string | undefined;

export function fakeLibcuda(): string {
  if (built) return built;
  const source = new URL('../fixtures/fake-libcuda.c', import.meta.url).pathname;
  const library = join(mkdtempSync(join(tmpdir(), 'dynamo-fake-cuda-')), 'libcuda.so.1');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, source, '-lpthread']);
  built = library;
  return library;
}
