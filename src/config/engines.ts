/**
 * The engines a worker runs. Every name here runs in this build, so `--engine` offers only these
 * and the config refuses any other. A leaf of its own: schema.ts and not-yet.ts both read it.
 */
export const ENGINES = ['mocker', 'llamacpp', 'vllm', 'sglang', 'trtllm'] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * Engines the worker runs in its own process (the mocker, llama.cpp on a CPU): no GPU, no engine
 * launch plan, no engine ports. The others run as the worker's child on NVIDIA GPUs.
 */
export const IN_WORKER_ENGINES: readonly string[] = ['mocker', 'llamacpp'];
export const runsInWorker = (engine: string): boolean => IN_WORKER_ENGINES.includes(engine);
