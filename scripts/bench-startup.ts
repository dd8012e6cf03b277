// npm run bench:startup — how fast `dynamo --version` starts: the compiled binary against the same
// CLI under node (dev mode, tsx) and against bare `node -e 0` (the floor of any node CLI), in one run;
// and a whole local `dynamo sanity --json --local` (issue 11 wants it under two seconds).
// Prints a table and a JSON record; medians of interleaved runs, so machine noise hits all alike.
import {spawnSync} from 'node:child_process';
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
  // Exits 1 when a check fails on this machine: still a full run, timed the same.
  'binary: dist/dynamo sanity --json --local': [bin, 'sanity', '--json', '--local'],
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, argv] of Object.entries(variants)) {
    const t = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), {cwd: root, stdio: 'ignore'});
    if (r.error || r.signal || (r.status !== 0 && r.status !== 1)) throw new Error(`${name}: ${r.error?.message ?? r.signal ?? `exit ${r.status}`}`);
    samples[name]!.push(performance.now() - t);
  }
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const binMedian = q(samples[Object.keys(variants)[0]!]!, 0.5);
const rows = Object.entries(samples).map(([name, xs]) => ({name, median_ms: +q(xs, 0.5).toFixed(1), p90_ms: +q(xs, 0.9).toFixed(1), min_ms: +Math.min(...xs).toFixed(1), vs_binary: +(q(xs, 0.5) / binMedian).toFixed(2)}));
console.log(`dynamo start time (--version) and a local sanity run, ${runs} interleaved runs each\n`);
console.log(`${'variant'.padEnd(44)} ${'median'.padStart(9)} ${'p90'.padStart(9)} ${'min'.padStart(9)} ${'× binary'.padStart(9)}`);
for (const r of rows) console.log(`${r.name.padEnd(44)} ${`${r.median_ms} ms`.padStart(9)} ${`${r.p90_ms} ms`.padStart(9)} ${`${r.min_ms} ms`.padStart(9)} ${String(r.vs_binary).padStart(9)}`);
const sanity = rows.find((r) => r.name.includes('sanity'))!;
console.log(`\nlocal sanity run: median ${sanity.median_ms} ms (issue 11's target: under 2000 ms)`);
console.log(`\n${JSON.stringify({bench: 'startup', runs, results: rows})}`);
