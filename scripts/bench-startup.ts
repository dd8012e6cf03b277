// npm run bench:startup — how fast `dynamo --version` starts: the compiled binary against the same
// CLI under node (dev mode, tsx) and against bare `node -e 0` (the floor of any node CLI), in one run.
// Prints a table and a JSON record; medians of interleaved runs, so machine noise hits all alike.
import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {join} from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/dynamo');
if (!existsSync(bin)) {
  console.error('dist/dynamo is missing: run `npm run build` first');
  process.exit(1);
}
const runs = Number(process.env.RUNS ?? 21);
const variants: Record<string, string[]> = {
  'binary: dist/dynamo --version': [bin, '--version'],
  'node + tsx: src/main.ts --version': [process.execPath, '--import', 'tsx', join(root, 'src/main.ts'), '--version'],
  'floor: node -e 0': [process.execPath, '-e', '0'],
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, argv] of Object.entries(variants)) {
    const t = performance.now();
    execFileSync(argv[0]!, argv.slice(1), {cwd: root, stdio: 'ignore'});
    samples[name]!.push(performance.now() - t);
  }
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const binMedian = q(samples[Object.keys(variants)[0]!]!, 0.5);
const rows = Object.entries(samples).map(([name, xs]) => ({name, median_ms: +q(xs, 0.5).toFixed(1), p90_ms: +q(xs, 0.9).toFixed(1), min_ms: +Math.min(...xs).toFixed(1), vs_binary: +(q(xs, 0.5) / binMedian).toFixed(2)}));
console.log(`dynamo --version start time, ${runs} interleaved runs each\n`);
console.log(`${'variant'.padEnd(36)} ${'median'.padStart(9)} ${'p90'.padStart(9)} ${'min'.padStart(9)} ${'× binary'.padStart(9)}`);
for (const r of rows) console.log(`${r.name.padEnd(36)} ${`${r.median_ms} ms`.padStart(9)} ${`${r.p90_ms} ms`.padStart(9)} ${`${r.min_ms} ms`.padStart(9)} ${String(r.vs_binary).padStart(9)}`);
console.log(`\n${JSON.stringify({bench: 'startup', runs, results: rows})}`);
