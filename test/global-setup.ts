// End-to-end tests drive the built binary: rebuild it when any source is newer than it.
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';

const root = join(import.meta.dirname, '..');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  // The native addon first: unit tests load it, and the binary embeds it.
  execFileSync(process.execPath, [join(root, 'scripts/build-native.mjs')], {cwd: root, stdio: ['ignore', 'inherit', 'inherit']});
  execFileSync(process.execPath, [join(root, 'scripts/build-llama.mjs')], {cwd: root, stdio: ['ignore', 'inherit', 'inherit']});
  const bin = join(root, 'dist/dynamo');
  const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'templates')), statSync(join(root, 'package.json')).mtimeMs);
  if (existsSync(bin) && statSync(bin).mtimeMs >= sources) return;
  execFileSync('npm', ['run', '--silent', 'build'], {cwd: root, stdio: ['ignore', 'inherit', 'inherit']});
}
