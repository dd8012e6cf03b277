// Builds the native addon (src/native) with node-gyp when it is missing or older than its sources;
// `--force` rebuilds anyway. Headers come from the local node install (/usr/include/node), so
// nothing is downloaded. Run by `npm run build:native`, `npm run build`, setup and the test setup.
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';

const dir = join(import.meta.dirname, '../src/native');
const out = join(dir, 'build/Release/dynamo_native.node');
const sources = ['binding.gyp', ...readdirSync(join(dir, 'src')).map((f) => join('src', f))].map((f) => statSync(join(dir, f)).mtimeMs);
if (!process.argv.includes('--force') && existsSync(out) && statSync(out).mtimeMs >= Math.max(...sources)) process.exit(0);

// npm exposes its bundled node-gyp to scripts; outside npm, find it next to npm itself.
const npmGyp = join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const gyp = process.env.npm_config_node_gyp ?? npmGyp;
const nodedir = existsSync(join(dirname(process.execPath), '../include/node/node_api.h')) ? [`--nodedir=${join(dirname(process.execPath), '..')}`] : [];
try {
  execFileSync(process.execPath, [gyp, 'rebuild', ...nodedir, '--loglevel=warn'], {cwd: dir, stdio: ['ignore', 'ignore', 'inherit']});
} catch {
  console.error('build-native: building src/native failed (see above). It needs g++, make, python3 and libxxhash-dev: run `npm run setup`.');
  process.exit(1);
}
console.error('build-native: built src/native/build/Release/dynamo_native.node');
