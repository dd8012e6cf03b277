// Builds the llama.cpp engine addon (src/native/llama → dynamo_llama.node) against a static
// llama.cpp, so the binary embeds one self-contained .node that needs only libc, libstdc++ and libm.
//
// The source is llama.cpp as node-llama-cpp ships it (a git bundle inside its npm tarball): the npm
// registry is the one source every machine of this project reaches. It is fetched with `npm pack`
// (never installed: its optional dependencies are 700+ MB of GPU builds), checked against the pinned
// commit, and built once into .cache/llama.cpp/ (~5 min on 2 cores); later runs only relink.
// CPU only, for x86-64 with AVX2/FMA/F16C (any x86 server since 2015) so the binary travels.
// Run by `npm run build`, setup and the test setup; `--force` relinks the addon anyway.
import {execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import {dirname, join} from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const PACKAGE = 'node-llama-cpp@3.22.1';
const COMMIT = 'de3ff815ea7d559ee917f063901b8986f038abc6';
const cache = join(ROOT, '.cache/llama.cpp');
const source = join(cache, 'src');
const build = join(cache, 'build');
const stamp = join(build, 'dynamo-stamp.json');
const addonDir = join(ROOT, 'src/native/llama');
const addon = join(addonDir, 'build/Release/dynamo_llama.node');
const LIBS = ['src/libllama.a', 'ggml/src/libggml.a', 'ggml/src/libggml-cpu.a', 'ggml/src/libggml-base.a'].map((l) => join(build, l));

const run = (cmd, args, cwd = ROOT) => execFileSync(cmd, args, {cwd, stdio: ['ignore', 'ignore', 'inherit']});
const say = (msg) => console.error(`build-llama: ${msg}`);

function fail(msg) {
  console.error(`build-llama: ${msg}`);
  process.exit(1);
}

function headOf(dir) {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim();
  } catch {
    return undefined; // a clone cut short: fetched again
  }
}

function fetchSource() {
  if (headOf(source) === COMMIT) return;
  rmSync(source, {recursive: true, force: true});
  mkdirSync(cache, {recursive: true});
  say(`fetching llama.cpp ${COMMIT.slice(0, 10)} (from ${PACKAGE} on the npm registry)`);
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent'], {cwd: cache, encoding: 'utf8'}).trim().split('\n').pop();
  run('tar', ['xzf', tarball, 'package/llama/gitRelease.bundle'], cache);
  // Cloned beside and renamed into place: an interrupted clone never looks like a source tree.
  const partial = `${source}.partial`;
  rmSync(partial, {recursive: true, force: true});
  run('git', ['clone', '--quiet', 'package/llama/gitRelease.bundle', partial], cache);
  rmSync(join(cache, 'package'), {recursive: true, force: true});
  rmSync(join(cache, tarball), {force: true});
  const head = headOf(partial);
  if (head !== COMMIT) fail(`${PACKAGE} carries llama.cpp ${head}, not the pinned ${COMMIT}`);
  renameSync(partial, source);
}

function buildLibraries() {
  // The libraries are trusted only for the commit and flags they were built with.
  const want = JSON.stringify({commit: COMMIT, flags: FLAGS});
  if (LIBS.every((l) => existsSync(l)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  rmSync(build, {recursive: true, force: true});
  say('building llama.cpp (static, CPU; about 5 minutes on 2 cores, once)');
  const started = Date.now();
  run('cmake', ['-S', source, '-B', build, ...Object.entries(FLAGS).map(([k, v]) => `-D${k}=${v}`)]);
  run('cmake', ['--build', build, '--target', 'llama', '-j', String(Math.max(2, availableParallelism()))]);
  writeFileSync(stamp, want);
  say(`built llama.cpp in ${Math.round((Date.now() - started) / 1000)} s`);
}


const FLAGS = {
  CMAKE_BUILD_TYPE: 'Release',
  BUILD_SHARED_LIBS: 'OFF',
  CMAKE_POSITION_INDEPENDENT_CODE: 'ON', // linked into a shared object (the .node)
  LLAMA_BUILD_COMMON: 'OFF',
  LLAMA_BUILD_TESTS: 'OFF',
  LLAMA_BUILD_TOOLS: 'OFF',
  LLAMA_BUILD_EXAMPLES: 'OFF',
  LLAMA_BUILD_SERVER: 'OFF',
  LLAMA_BUILD_APP: 'OFF',
  LLAMA_OPENSSL: 'OFF',
  GGML_OPENMP: 'OFF', // ggml's own thread pool: no libgomp to carry
  GGML_NATIVE: 'OFF', // not this machine's CPU: the binary runs elsewhere
  GGML_AVX: 'ON',
  GGML_AVX2: 'ON',
  GGML_FMA: 'ON',
  GGML_F16C: 'ON',
  GGML_BMI2: 'ON',
};

function buildAddon() {
  const sources = readdirSync(addonDir).filter((f) => f.endsWith('.cc') || f === 'binding.gyp');
  const shared = join(addonDir, '../src/napi_util.h'); // helpers shared with the main addon
  const newest = Math.max(...sources.map((f) => statSync(join(addonDir, f)).mtimeMs), statSync(shared).mtimeMs, ...LIBS.map((l) => statSync(l).mtimeMs));
  if (!process.argv.includes('--force') && existsSync(addon) && statSync(addon).mtimeMs >= newest) return;
  const npmGyp = join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  const gyp = process.env.npm_config_node_gyp ?? npmGyp;
  const nodedir = existsSync(join(dirname(process.execPath), '../include/node/node_api.h')) ? [`--nodedir=${join(dirname(process.execPath), '..')}`] : [];
  run(process.execPath, [gyp, 'rebuild', ...nodedir, '--loglevel=warn', '--', `-Dllama_dir=${cache}`], addonDir);
  say('built src/native/llama/build/Release/dynamo_llama.node');
}

if (process.arch !== 'x64' || process.platform !== 'linux') {
  say(`skipped: the llama.cpp engine is built for linux x64, this is ${process.platform} ${process.arch}`);
  process.exit(0);
}
try {
  fetchSource();
  buildLibraries();
  buildAddon();
} catch (e) {
  fail(`building the llama.cpp engine failed (${e.message.split('\n')[0]}). It needs git, cmake, g++ and make: run \`npm run setup\`.`);
}
