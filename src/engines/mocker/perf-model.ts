/**
 * Mocker timing (ms per engine step), Dynamo's fitted polynomial model:
 *   prefill(N) = 4.209989e-7·N² + 1.518344e-2·N + 16.50142   N = new prompt tokens in the step
 *   decode(u)  = max(1, −25.74·u² + 54.01·u + 5.74)           u = active KV blocks / total blocks
 * The fit is for an 8B-class model on one H100. Other models scale by active parameters (compute
 * and weight reads both grow with them; floor 0.25 for per-step overheads of tiny models); other
 * GPUs by a relative factor. `speedupRatio` divides every time; 0 or Infinity = no waiting at all.
 */
export interface PerfModel {
  prefillMs(newTokens: number): number;
  decodeMs(kvUsage: number): number;
}

export const REFERENCE_ACTIVE_PARAMS = 8.03e9;

/** Step-time factor of each GPU relative to an H100 (decode is bandwidth-bound: 3.35 vs 4.8 TB/s for H200). */
export const GPU_FACTORS = {h100: 1, h200: 0.75, a100: 1.9, b200: 0.5} as const;
export type GpuKind = keyof typeof GPU_FACTORS;

export function polynomialModel(scale = 1): PerfModel {
  return {
    prefillMs: (n) => (n <= 0 ? 0 : scale * (4.209989e-7 * n * n + 1.518344e-2 * n + 16.50142)),
    decodeMs: (u) => scale * Math.max(1, -25.74 * u * u + 54.01 * u + 5.74),
  };
}

export function modelScale(activeParameters: number, gpu: GpuKind = 'h100'): number {
  return Math.max(0.25, activeParameters / REFERENCE_ACTIVE_PARAMS) * GPU_FACTORS[gpu];
}

/** Wall time of a step after the speedup: 0 when speedup is 0 or infinite ("as fast as possible"). */
export function scaledMs(ms: number, speedupRatio: number): number {
  if (speedupRatio <= 0 || !Number.isFinite(speedupRatio)) return 0;
  return ms / speedupRatio;
}
