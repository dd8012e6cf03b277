/**
 * 10× overload on the built binary (scripts/bench/overload.ts, which `npm run bench:overload` runs
 * for 60 s): with admission control the frontend refuses what it cannot serve soon, every refusal
 * 529 with Retry-After, and the requests it accepts keep their TTFT within 2× of the unloaded
 * value; without it everything queues and nothing is lost. Neither run crashes the frontend.
 */
import {describe, expect, it} from 'vitest';
import {runOverload} from '../scripts/bench/overload.js';
import {requireBinary} from './helpers/processes.js';

const SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 8);

describe('10× overload', () => {
  requireBinary();

  it('with admission control: refusals are 529 with Retry-After, accepted requests keep their TTFT, no crash', async () => {
    const r = await runOverload({admission: true, seconds: SECONDS, lanes: 160, name: 'overload-on'});
    process.stdout.write(`overload, admission on: ${JSON.stringify(r)}\n`);
    expect(r.otherErrors).toEqual([]);
    expect(Object.keys(r.refused)).toEqual(['529']);
    expect(r.refused['529']).toBeGreaterThan(0);
    expect(r.refusedWithoutRetryAfter).toBe(0);
    expect(r.completed).toBeGreaterThan(0);
    expect(r.acceptedTtftP50Ms).toBeLessThanOrEqual(2 * r.unloadedTtftMs);
    expect(r.frontendRestarts).toBe(0);
  }, 120_000);

  it('without admission control: the queue grows and nothing is lost', async () => {
    const r = await runOverload({admission: false, seconds: SECONDS, lanes: 160, name: 'overload-off'});
    process.stdout.write(`overload, admission off: ${JSON.stringify(r)}\n`);
    expect(r.otherErrors).toEqual([]);
    expect(r.refused).toEqual({});
    expect(r.queuePeak).toBeGreaterThan(20);
    expect(r.frontendRestarts).toBe(0);
  }, 120_000);
});
