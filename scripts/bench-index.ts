// npm run bench:index — the router's hot paths at Dynamo's scale, the native module against the
// TypeScript fallback side by side in one run, on one core:
// - prefix index, 64 workers × 1 M cached blocks: stored blocks applied/s while filling it (events
//   of 16 blocks chained to their parent), overlap queries/s (64-block requests), removed blocks/s,
//   all of it as ops/s (one op = one block event applied or one query), and block events/s in
//   steady state (a full index where evictions and new blocks alternate, as in a running engine);
// - block hashing (Dynamo's XXH3 scheme): tokens/s and µs per 1k-token prompt.
// Prints a table and a JSON record with native/TypeScript ratios.
import {prng} from '../src/engines/mocker/text.js';
import {native} from '../src/native/index.js';
import {NativeBlockHasher, WasmBlockHasher} from '../src/router/dynamo-hash.js';
import {type KvIndex, NativeKvIndex, TsKvIndex} from '../src/router/kv-index.js';

if (!native) throw new Error('the native addon is not built: run `npm run build:native`');
const WORKERS = 64;
const BLOCKS = Number(process.env.BLOCKS ?? 1_000_000);
const CHAIN = 64;
const EVENT = 16;
const QUERIES = 200_000;

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

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

function benchIndex(ix: KvIndex) {
  const storeS = timed(() => {
    for (const s of seqs) {
      for (let i = 0; i < CHAIN; i += EVENT) ix.store(s.worker, i ? s.seqs[i - 1] : undefined, s.locals.subarray(i, i + EVENT), s.seqs.subarray(i, i + EVENT));
    }
  });
  let matched = 0;
  const queryS = timed(() => {
    for (const q of queries) matched += ix.findMatches(q).scores.size;
  });
  const removeS = timed(() => {
    for (const s of victims) ix.remove(s.worker, s.seqs.subarray(CHAIN / 2).reverse());
  });
  // Steady state: a full index where, as in a running engine, each eviction (a removed event of
  // 16 blocks) is followed by new blocks (a stored event of 16): memory is reused, not grown.
  const rounds = seqs.length;
  const churnS = timed(() => {
    for (let r = 0; r < rounds; r++) {
      const s = seqs[(r * 7919) % seqs.length]!;
      const tail = s.seqs.subarray(CHAIN - EVENT);
      ix.remove(s.worker, tail);
      ix.store(s.worker, s.seqs[CHAIN - EVENT - 1], s.locals.subarray(CHAIN - EVENT), tail);
    }
  });
  const stored = seqs.length * CHAIN;
  const removed = victims.length * (CHAIN / 2);
  return {
    storedPerS: stored / storeS,
    queriesPerS: QUERIES / queryS,
    removedPerS: removed / removeS,
    steadyEventsPerS: (rounds * 2 * EVENT) / churnS,
    opsPerS: (stored + QUERIES + removed) / (storeS + queryS + removeS),
    matchedPerQuery: matched / QUERIES,
  };
}

const ts = benchIndex(new TsKvIndex());
const nat = benchIndex(new NativeKvIndex(native));

// Hashing: 1k-token prompts, the whole prompt per call.
const prompts = Array.from({length: 2000}, () => Uint32Array.from({length: 1024}, () => Math.floor(rand() * 128000)));
async function benchHash(h: {hashAll(t: ArrayLike<number>): unknown}) {
  for (const p of prompts.slice(0, 100)) h.hashAll(p); // warm-up
  const s = timed(() => {
    for (const p of prompts) h.hashAll(p);
  });
  return {tokensPerS: (prompts.length * 1024) / s, usPer1k: (s / prompts.length) * 1e6};
}
const wasmHash = await benchHash(await WasmBlockHasher.create(16));
const nativeHash = await benchHash(NativeBlockHasher.create(native, 16));

const M = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;
const rows: [string, string, string, string][] = [
  ['stored blocks applied (filling)', M(ts.storedPerS), M(nat.storedPerS), (nat.storedPerS / ts.storedPerS).toFixed(1)],
  ['overlap queries (64 blocks)', M(ts.queriesPerS), M(nat.queriesPerS), (nat.queriesPerS / ts.queriesPerS).toFixed(1)],
  ['removed blocks applied', M(ts.removedPerS), M(nat.removedPerS), (nat.removedPerS / ts.removedPerS).toFixed(1)],
  ['all of the above as ops', M(ts.opsPerS), M(nat.opsPerS), (nat.opsPerS / ts.opsPerS).toFixed(1)],
  ['steady state: evict 16 + store 16', M(ts.steadyEventsPerS), M(nat.steadyEventsPerS), (nat.steadyEventsPerS / ts.steadyEventsPerS).toFixed(1)],
  ['hashing, tokens', M(wasmHash.tokensPerS), M(nativeHash.tokensPerS), (nativeHash.tokensPerS / wasmHash.tokensPerS).toFixed(1)],
  ['hashing, µs per 1k-token prompt', wasmHash.usPer1k.toFixed(1), nativeHash.usPer1k.toFixed(1), (wasmHash.usPer1k / nativeHash.usPer1k).toFixed(1)],
];
console.log(`bench:index — ${WORKERS} workers, ${(seqs.length * CHAIN).toLocaleString()} blocks, one core (${nat.matchedPerQuery.toFixed(1)} workers matched per query); TypeScript vs native\n`);
console.log(`${'operation'.padEnd(34)} ${'typescript'.padStart(12)} ${'native'.padStart(12)} ${'× native'.padStart(9)}`);
for (const [op, a, b, r] of rows) console.log(`${op.padEnd(34)} ${a.padStart(12)} ${b.padStart(12)} ${r.padStart(9)}`);
console.log(`\n${JSON.stringify({bench: 'index', workers: WORKERS, blocks: seqs.length * CHAIN, typescript: ts, native: nat, hashing: {wasm: wasmHash, native: nativeHash}})}`);
