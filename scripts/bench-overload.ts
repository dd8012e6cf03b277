// npm run bench:overload — 10× overload on the built binary, with and without admission control,
// side by side in one run (scripts/bench/overload.ts has the setup): LANES clients (default 160,
// ~10× the 16 requests two small mocker workers run at once) for SECONDS each (default 60).
// Prints a table and a JSON record. Issue 16's bar: with admission control no crash, bounded
// frontend RSS, every refusal 529 with Retry-After, accepted TTFT (p50) within 2× of unloaded;
// without it the queue grows and nothing is lost.
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {type OverloadResult, runOverload} from './bench/overload.js';

const SECONDS = Number(process.env.SECONDS ?? 60);
const LANES = Number(process.env.LANES ?? 160);

if (!existsSync(join(import.meta.dirname, '..', 'dist/dynamo'))) {
  console.error('dist/dynamo is missing: run `npm run build` first');
  process.exit(1);
}

const runs: OverloadResult[] = [];
for (const admission of [true, false]) runs.push(await runOverload({admission, seconds: SECONDS, lanes: LANES, name: `bench-overload-${admission ? 'on' : 'off'}`}));

const row = (cells: (string | number)[]) => console.log(cells.map((c, i) => String(c).padEnd(i ? 14 : 22)).join(''));
row(['', 'admission on', 'admission off']);
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const line = (label: string, pick: (r: OverloadResult) => string | number) => row([label, ...runs.map(pick)]);
line('unloaded TTFT p50 ms', (r) => f(r.unloadedTtftMs));
line('accepted TTFT p50 ms', (r) => f(r.acceptedTtftP50Ms));
line('  ratio to unloaded', (r) => f(r.acceptedTtftP50Ms / r.unloadedTtftMs));
line('accepted TTFT p90 ms', (r) => f(r.acceptedTtftP90Ms));
line('completed', (r) => r.completed);
line('refused (status)', (r) => Object.entries(r.refused).map(([s, n]) => `${n}×${s}`).join(' ') || '0');
line('  without Retry-After', (r) => r.refusedWithoutRetryAfter);
line('other errors', (r) => r.otherErrors.length);
line('router queue peak', (r) => r.queuePeak);
line('frontend RSS peak MB', (r) => f(r.frontendRssPeakMb));
line('frontend restarts', (r) => r.frontendRestarts);
console.log(JSON.stringify({bench: 'overload', seconds: SECONDS, lanes: LANES, runs}));
