// Builds dist/dynamo: one self-contained executable (bun build --compile), run with `bun scripts/build.ts`.
// - react-devtools-core (imported by Ink) is stubbed: bun hoists that import and the binary would fail at start.
// - typescript is external: cosmiconfig requires it only for .ts config files, which we do not search for.
// - bytecode needs ESM output (Ink and yoga use top-level await).
// - splitting: each command's dynamic import is its own chunk inside the binary, so a process loads
//   only the code of the command it runs (dynamo top at idle: 74 → 67 MB RSS).
import {mkdirSync} from 'node:fs';

const stubDevtools = {
  name: 'stub-react-devtools-core',
  setup(b: any) {
    b.onResolve({filter: /^react-devtools-core$/}, () => ({path: 'react-devtools-core', namespace: 'stub'}));
    b.onLoad({filter: /.*/, namespace: 'stub'}, () => ({contents: 'export default {initialize(){},connectToDevTools(){}}', loader: 'js'}));
  },
};

mkdirSync('dist', {recursive: true});
const started = performance.now();
const r = await (globalThis as any).Bun.build({
  entrypoints: ['./src/main.ts'],
  compile: {outfile: './dist/dynamo'},
  minify: true,
  bytecode: true,
  splitting: true,
  format: 'esm',
  sourcemap: 'none',
  plugins: [stubDevtools],
  external: ['typescript'],
});
if (!r.success) {
  for (const l of r.logs) console.error(l);
  process.exit(1);
}
console.error(`built dist/dynamo in ${((performance.now() - started) / 1000).toFixed(1)} s`);
