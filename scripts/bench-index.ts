// npm run bench:index — the router's hot paths at Dynamo's scale, on one core, the native module
// against the TypeScript versions side by side in one run:
// - prefix index, 64 workers × 1 M blocks (64-block sequences: 16 blocks shared with other
//   sequences, then 48 of their own), through the router's KvIndex interface:
//   stored blocks/s while filling it (events of 16 blocks chained to their parent), overlap
//   queries/s (64-block requests matching 8–63 leading blocks; the KvIndex answer is two Maps, and
//   NativeKvIndex.findMatchesInto gives the same scores in typed arrays), removed blocks/s (the tail
//   half of every tenth sequence), and ops/s over those three phases, where one op = one block
//   event applied (a stored or a removed block) or one query;
//   then the steady state on the full index: evict 16 + store 16 blocks per round, alone and with
//   one query per round (33 ops);
// - block hashing (Dynamo's XXH3 scheme, the router's BlockHasher): tokens/s and µs per 1k-token
//   prompt, hash-wasm against native.
// Every figure is the best of REPEAT passes (default 3; each pass builds fresh indexes): timings on
// a shared machine vary. Queries are prebuilt arrays (100 MB of them): their first read is a
// cache miss, which a router's freshly hashed request does not pay.
// Prints a table and one JSON record with native/TypeScript ratios.
import {prng} from '../src/shared/prng.js';
import {native} from '../src/native/index.js';
import {NativeBlockHasher, WasmBlockHasher} from '../src/kv/dynamo-hash.js';
import {type KvIndex, NativeKvIndex, TsKvIndex} from '../src/router/kv-index.js';

if (!native) throw new Error('the native addon is not built: run `npm run build:native`');
const addon = native;
const WORKERS = 64;
const BLOCKS = Number(process.env.BLOCKS ?? 1_000_000);
const REPEAT = Number(process.env.REPEAT ?? 3);
const CHAIN = 64;
const EVENT = 16;
const QUERIES = 200_000;
const TARGET = 10e6;
const gc = (globalThis as {gc?: () => void}).gc ?? (() => {});

const rand = prng(1);
const key = () => (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
// Shared prefixes: 2,000 root chains of 16 blocks that many workers store, then private suffixes.
const roots = Array.from({length: 2000}, () => Array.from({length: 16}, key));
interface Seq {
  worker: string;
  locals: BigUint64Array;
  seqs: BigUint64Array;
}
const seqs: Seq[] = [];
for (let total = 0; total < BLOCKS; total += CHAIN) {
  const root = roots[Math.floor(rand() * roots.length)]!;
  const locals = BigUint64Array.from([...root, ...Array.from({length: CHAIN - root.length}, key)]);
  seqs.push({worker: `w${seqs.length % WORKERS}`, locals, seqs: BigUint64Array.from(locals, key)});
}
const queries = Array.from({length: QUERIES}, () => {
  const s = seqs[Math.floor(rand() * seqs.length)]!;
  const cut = 8 + Math.floor(rand() * (CHAIN - 8));
  return BigUint64Array.from([...s.locals.subarray(0, cut), ...Array.from({length: CHAIN - cut}, key)]);
});
const victims = seqs.filter((_, i) => i % 10 === 0);
// Their tail halves, last block first (as engines evict).
const evicted = victims.map((s) => s.seqs.slice(CHAIN / 2).reverse());
// The steady state runs on sequences still whole; a fixed shuffled order of them.
const whole = seqs.filter((_, i) => i % 10 !== 0);
const order = Array.from({length: whole.length}, (_, r) => whole[(r * 7919) % whole.length]!);
const stored = seqs.length * CHAIN;
const removed = victims.length * (CHAIN / 2);

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

interface IndexFigures {
  storedPerS: number;
  removedPerS: number;
  queriesPerS: number;
  opsPerS: number;
  steadyBlocksPerS: number;
  steadyWithQueriesOpsPerS: number;
  /** Native only: queries answered in typed arrays. */
  queriesIntoPerS?: number;
  opsIntoPerS?: number;
  steadyWithQueriesIntoOpsPerS?: number;
  matchedPerQuery: number;
}

function pass(ix: KvIndex): IndexFigures {
  const into = ix instanceof NativeKvIndex ? ix : undefined;
  const storeS = timed(() => {
    for (const s of seqs) {
      for (let i = 0; i < CHAIN; i += EVENT) ix.store(s.worker, i ? s.seqs[i - 1] : undefined, s.locals.subarray(i, i + EVENT), s.seqs.subarray(i, i + EVENT));
    }
  });
  let matched = 0;
  const queryS = timed(() => {
    for (const q of queries) matched += ix.findMatches(q).scores.size;
  });
  const queryIntoS = into
    ? timed(() => {
        for (const q of queries) into.findMatchesInto(q);
      })
    : Number.NaN;
  const removeS = timed(() => {
    for (const [i, s] of victims.entries()) ix.remove(s.worker, evicted[i]!);
  });
  // Steady state: a full index where, as in a running engine, each eviction (a removed event of
  // 16 blocks) is followed by new blocks (a stored event of 16): memory is reused, not grown.
  const churn = (query?: (q: BigUint64Array) => void) => {
    for (let r = 0; r < order.length; r++) {
      const s = order[r]!;
      if (query) query(queries[r % QUERIES]!);
      const tail = s.seqs.subarray(CHAIN - EVENT);
      ix.remove(s.worker, tail);
      ix.store(s.worker, s.seqs[CHAIN - EVENT - 1], s.locals.subarray(CHAIN - EVENT), tail);
    }
  };
  const steadyS = timed(() => churn());
  const mixedS = timed(() => churn((q) => ix.findMatches(q)));
  const mixedIntoS = into ? timed(() => churn((q) => into.findMatchesInto(q))) : Number.NaN;
  const steadyBlocks = order.length * 2 * EVENT;
  const f: IndexFigures = {
    storedPerS: stored / storeS,
    removedPerS: removed / removeS,
    queriesPerS: QUERIES / queryS,
    opsPerS: (stored + removed + QUERIES) / (storeS + removeS + queryS),
    steadyBlocksPerS: steadyBlocks / steadyS,
    steadyWithQueriesOpsPerS: (steadyBlocks + order.length) / mixedS,
    matchedPerQuery: matched / QUERIES,
  };
  if (into) {
    f.queriesIntoPerS = QUERIES / queryIntoS;
    f.opsIntoPerS = (stored + removed + QUERIES) / (storeS + removeS + queryIntoS);
    f.steadyWithQueriesIntoOpsPerS = (steadyBlocks + order.length) / mixedIntoS;
  }
  return f;
}

function best<T extends object>(runs: T[]): T {
  const out = {...runs[0]!} as Record<string, number>;
  for (const r of runs.slice(1)) for (const [k, v] of Object.entries(r)) out[k] = Math.max(out[k]!, v as number);
  return out as T;
}

// Hashing: 1k-token prompts, the whole prompt per call.
const prompts = Array.from({length: 2000}, () => Uint32Array.from({length: 1024}, () => Math.floor(rand() * 128000)));
function hashPass(h: {hashAll(t: ArrayLike<number>): unknown}) {
  for (const p of prompts.slice(0, 100)) h.hashAll(p); // warm-up
  const s = timed(() => {
    for (const p of prompts) h.hashAll(p);
  });
  return {tokensPerS: (prompts.length * 1024) / s, usPer1kTokens: (s / prompts.length) * 1e6 * (1000 / 1024)};
}
const wasmHasher = await WasmBlockHasher.create(16);
const nativeHasher = NativeBlockHasher.create(addon, 16);

const tsRuns: IndexFigures[] = [];
const nativeRuns: IndexFigures[] = [];
const wasmHashRuns: ReturnType<typeof hashPass>[] = [];
const nativeHashRuns: ReturnType<typeof hashPass>[] = [];
for (let r = 0; r < REPEAT; r++) {
  gc();
  tsRuns.push(pass(new TsKvIndex()));
  gc();
  const nix = new NativeKvIndex(addon);
  nativeRuns.push(pass(nix));
  nix.dispose();
  wasmHashRuns.push(hashPass(wasmHasher));
  nativeHashRuns.push(hashPass(nativeHasher));
}
const ts = best(tsRuns);
const nat = best(nativeRuns);
const wasmHash = best(wasmHashRuns);
const nativeHash = best(nativeHashRuns);
// µs per prompt: lower is better (best = min).
wasmHash.usPer1kTokens = Math.min(...wasmHashRuns.map((x) => x.usPer1kTokens));
nativeHash.usPer1kTokens = Math.min(...nativeHashRuns.map((x) => x.usPer1kTokens));

const M = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : `${(x / 1e6).toFixed(2)} M/s`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : (b / a).toFixed(1));
const rows: [string, string, string, string][] = [
  ['stored blocks applied (filling)', M(ts.storedPerS), M(nat.storedPerS), ratio(ts.storedPerS, nat.storedPerS)],
  ['removed blocks applied', M(ts.removedPerS), M(nat.removedPerS), ratio(ts.removedPerS, nat.removedPerS)],
  ['overlap queries, 64 blocks (Maps)', M(ts.queriesPerS), M(nat.queriesPerS), ratio(ts.queriesPerS, nat.queriesPerS)],
  ['overlap queries (typed arrays)', '—', M(nat.queriesIntoPerS), ratio(ts.queriesPerS, nat.queriesIntoPerS)],
  ['ops: stored + removed + queries (Maps)', M(ts.opsPerS), M(nat.opsPerS), ratio(ts.opsPerS, nat.opsPerS)],
  ['ops, queries in typed arrays', '—', M(nat.opsIntoPerS), ratio(ts.opsPerS, nat.opsIntoPerS)],
  ['steady: evict 16 + store 16 (blocks)', M(ts.steadyBlocksPerS), M(nat.steadyBlocksPerS), ratio(ts.steadyBlocksPerS, nat.steadyBlocksPerS)],
  ['steady + 1 query a round (ops, Maps)', M(ts.steadyWithQueriesOpsPerS), M(nat.steadyWithQueriesOpsPerS), ratio(ts.steadyWithQueriesOpsPerS, nat.steadyWithQueriesOpsPerS)],
  ['steady + 1 query (ops, typed arrays)', '—', M(nat.steadyWithQueriesIntoOpsPerS), ratio(ts.steadyWithQueriesOpsPerS, nat.steadyWithQueriesIntoOpsPerS)],
  ['hashing, tokens', M(wasmHash.tokensPerS), M(nativeHash.tokensPerS), ratio(wasmHash.tokensPerS, nativeHash.tokensPerS)],
  ['hashing, µs per 1k-token prompt', wasmHash.usPer1kTokens.toFixed(1), nativeHash.usPer1kTokens.toFixed(1), ratio(nativeHash.usPer1kTokens, wasmHash.usPer1kTokens)],
];
console.log(
  `bench:index — ${WORKERS} workers, ${stored.toLocaleString()} blocks, ${QUERIES.toLocaleString()} queries of ${CHAIN} blocks (${nat.matchedPerQuery.toFixed(1)} workers matched per query), one core, best of ${REPEAT}`,
);
console.log('one op = one block event applied (a stored or removed block) or one overlap query; hashing columns: hash-wasm vs native\n');
console.log(`${'operation'.padEnd(40)} ${'typescript'.padStart(12)} ${'native'.padStart(12)} ${'× native'.padStart(9)}`);
for (const [op, a, b, r] of rows) console.log(`${op.padEnd(40)} ${a.padStart(12)} ${b.padStart(12)} ${r.padStart(9)}`);
const ratios = Object.fromEntries(Object.entries(nat).flatMap(([k, v]) => (k in ts && k !== 'matchedPerQuery' ? [[k, v / (ts as unknown as Record<string, number>)[k]!]] : [])));
const targetMet = {
  ops: nat.opsPerS >= TARGET,
  opsQueriesInTypedArrays: (nat.opsIntoPerS ?? 0) >= TARGET,
  steadyWithQueries: nat.steadyWithQueriesOpsPerS >= TARGET,
  steadyWithQueriesInTypedArrays: (nat.steadyWithQueriesIntoOpsPerS ?? 0) >= TARGET,
};
console.log(`\ntarget ${TARGET / 1e6} M ops/s: ${Object.entries(targetMet).map(([k, v]) => `${k} ${v ? 'met' : 'not met'}`).join(', ')}`);
console.log(
  `\n${JSON.stringify({bench: 'index', workers: WORKERS, blocks: stored, queries: QUERIES, repeat: REPEAT, typescript: ts, native: nat, ratios, hashing: {wasm: wasmHash, native: nativeHash, ratio: nativeHash.tokensPerS / wasmHash.tokensPerS}, target: TARGET, targetMet})}`,
);
