// npm run bench:index — the prefix index at Dynamo's scale: 64 workers, 1 M cached blocks, on one
// core. Measures KV events applied per second (stored blocks, removed blocks) and overlap queries
// per second (64-block requests), side by side with a plain Map of the same size as the reference
// for what a JS hash lookup costs. Prints a table and a JSON record.
import {prng} from '../src/engines/mocker/text.js';
import {PrefixIndex, type StoredBlock} from '../src/router/prefix-index.js';

const WORKERS = 64;
const BLOCKS = Number(process.env.BLOCKS ?? 1_000_000);
const CHAIN = 64;
const QUERIES = 200_000;

const rand = prng(1);
const key = () => Math.floor(rand() * 2 ** 52) + 1;
// Shared prefixes: 2,000 root chains of 16 blocks that many workers store, then private suffixes.
const roots = Array.from({length: 2000}, () => Array.from({length: 16}, key));

interface Seq {
  worker: string;
  locals: number[];
  seqs: number[];
}
const seqs: Seq[] = [];
let total = 0;
while (total < BLOCKS) {
  const worker = `w${seqs.length % WORKERS}`;
  const root = roots[Math.floor(rand() * roots.length)]!;
  const locals = [...root, ...Array.from({length: CHAIN - root.length}, key)];
  seqs.push({worker, locals, seqs: locals.map(key)});
  total += CHAIN;
}

const ix = new PrefixIndex();
let t0 = performance.now();
for (const s of seqs) {
  // One stored event per 16 blocks, chained to the previous event's last block.
  for (let i = 0; i < CHAIN; i += 16) {
    const blocks: StoredBlock[] = [];
    for (let j = i; j < i + 16; j++) blocks.push({local: s.locals[j]!, seq: s.seqs[j]!});
    ix.store(s.worker, i ? s.seqs[i - 1] : undefined, blocks);
  }
}
const storeS = (performance.now() - t0) / 1000;

const queries = Array.from({length: QUERIES}, () => {
  const s = seqs[Math.floor(rand() * seqs.length)]!;
  const cut = 8 + Math.floor(rand() * (CHAIN - 8));
  return [...s.locals.slice(0, cut), ...Array.from({length: CHAIN - cut}, key)];
});
t0 = performance.now();
let matched = 0;
for (const q of queries) matched += ix.findMatches(q).scores.size;
const queryS = (performance.now() - t0) / 1000;

const victims = seqs.filter((_, i) => i % 10 === 0);
t0 = performance.now();
let removed = 0;
for (const s of victims) {
  ix.remove(s.worker, s.seqs.slice(CHAIN / 2).reverse());
  removed += CHAIN / 2;
}
const removeS = (performance.now() - t0) / 1000;

// Reference: the same number of Map lookups on a 1 M-entry Map.
const ref = new Map<number, number>();
for (const s of seqs) for (const k of s.seqs) ref.set(k, 1);
const keys = seqs.flatMap((s) => s.seqs).slice(0, 2_000_000);
t0 = performance.now();
let hits = 0;
for (const k of keys) hits += ref.get(k) ?? 0;
const mapS = (performance.now() - t0) / 1000;

const rows = [
  {operation: 'stored blocks applied', count: total, per_sec_M: +(total / storeS / 1e6).toFixed(2)},
  {operation: 'overlap queries (64 blocks)', count: QUERIES, per_sec_M: +(QUERIES / queryS / 1e6).toFixed(3)},
  {operation: 'removed blocks applied', count: removed, per_sec_M: +(removed / removeS / 1e6).toFixed(2)},
  {operation: 'reference: Map.get on 1M keys', count: keys.length, per_sec_M: +(keys.length / mapS / 1e6).toFixed(2)},
];
console.log(`bench:index — ${WORKERS} workers, ${total.toLocaleString()} blocks, one core (avg ${(matched / QUERIES).toFixed(1)} workers matched per query)\n`);
for (const r of rows) console.log(`${r.operation.padEnd(32)} ${String(r.count).padStart(9)}  ${String(r.per_sec_M).padStart(7)} M/s`);
console.log(`\n${JSON.stringify({bench: 'index', workers: WORKERS, blocks: total, results: rows, hits})}`);
