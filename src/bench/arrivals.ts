/**
 * When open-loop requests are sent: offsets in milliseconds from the start of a run, for a target
 * rate (requests/s). Seeded, so a run is repeatable.
 * - constant: exactly every 1/rate;
 * - poisson: exponential gaps (AIPerf's default, vLLM's burstiness 1);
 * - gamma: gaps ~ Gamma(shape, 1/(rate·shape)), the mean gap stays 1/rate and the coefficient of
 *   variation is 1/√shape (shape < 1 burstier than Poisson, > 1 smoother; vLLM's `--burstiness`,
 *   AIPerf's `--arrival-smoothness`).
 */
import {prng} from '../shared/prng.js';

export type ArrivalPattern = {kind: 'constant'} | {kind: 'poisson'} | {kind: 'gamma'; shape: number};

/** Standard normal (Box–Muller). */
function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 through the boost Gamma(shape + 1)·U^(1/shape). */
function gamma(shape: number, rand: () => number): number {
  if (shape < 1) return gamma(shape + 1, rand) * (1 - rand()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rand);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = 1 - rand();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Send offsets (ms) of `count` requests; the first goes at 0. */
export function arrivalOffsets(count: number, ratePerS: number, pattern: ArrivalPattern, seed = 0): number[] {
  if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) throw new Error(`request rate must be a positive number, got ${ratePerS}`);
  const meanGap = 1000 / ratePerS;
  const rand = prng(seed);
  const out = new Array<number>(count);
  let t = 0;
  for (let i = 0; i < count; i++) {
    out[i] = t;
    if (pattern.kind === 'constant') t += meanGap;
    else if (pattern.kind === 'poisson') t += -Math.log(1 - rand()) * meanGap;
    else {
      if (!(pattern.shape > 0)) throw new Error(`gamma shape must be positive, got ${pattern.shape}`);
      t += gamma(pattern.shape, rand) * (meanGap / pattern.shape);
    }
  }
  return out;
}
