/**
 * The engines a worker runs. Every name here runs in this build, so `--engine` offers only these
 * and the config refuses any other. A leaf of its own: schema.ts and not-yet.ts both read it.
 */
export const ENGINES = ['mocker', 'vllm', 'sglang', 'trtllm'] as const;
